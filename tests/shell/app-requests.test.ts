// What both transports serve comes from one handler (src-main/shell/common/app-requests.ts): the
// desktop app's scheme (called as Electron's protocol.handle calls it) and the browser build's HTTP
// server give the same status, type and security headers for the same paths, and the same bytes.
// Real files and links in a temp folder; the service is a stand-in with two pictures.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiService } from '../../src-main/contract/api';
import { SECURITY_HEADERS } from '../../src-main/shell/common/security-headers';
import { createAppProtocolHandler } from '../../src-main/shell/electron/protocol';
import { startWebServer, type WebServer } from '../../src-main/shell/web/server';
import { tempDir } from '../helpers';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

let dir: string;
let server: WebServer;
let scheme: (request: Request) => Promise<Response>;
const picture = Buffer.from('not really a jpeg, but bytes all the same');
const exported = Buffer.from('{"images":[]}');

async function media(kind: string, id: string) {
  if (kind === 'display' && id === 'i1') return { bytes: picture, mimeType: 'image/jpeg' };
  if (kind === 'export' && id === 'e1') return { bytes: exported, mimeType: 'application/json', fileName: 'Sommer 2024 – annotations.json' };
  if (kind === 'display' && id === 'broken') throw new Error('the photo is damaged');
  return undefined;
}

beforeAll(async () => {
  dir = fs.realpathSync(tempDir('fd-shell-requests-'));
  const renderer = path.join(dir, 'renderer');
  fs.mkdirSync(path.join(renderer, 'assets', 'fonts'), { recursive: true });
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>app</title>');
  fs.writeFileSync(path.join(renderer, 'assets', 'index-abc123.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'not yours\n');
  fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(renderer, 'assets', 'leak.txt'));
  scheme = createAppProtocolHandler({ rendererDir: renderer, media });
  const service = new Proxy({} as ApiService, { get: (_t, method) => (method === 'media' ? media : async () => ({})) });
  server = await startWebServer({ service, rendererDir: renderer, uploadsDir: path.join(dir, 'uploads'), port: 0 });
});

afterAll(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function overScheme(pathname: string, method = 'GET'): Promise<Answer> {
  const res = await scheme(new Request(`fashion-detect://app${pathname}`, { method }));
  return { status: res.status, headers: Object.fromEntries(res.headers), body: Buffer.from(await res.arrayBuffer()) };
}

function overHttp(pathname: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path: pathname, headers: { host: `127.0.0.1:${server.port}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The same answer over both transports; returns the HTTP one. */
async function both(pathname: string, method = 'GET'): Promise<Answer> {
  const [a, b] = await Promise.all([overScheme(pathname, method), overHttp(pathname, method)]);
  expect(b.status, `${method} ${pathname}`).toBe(a.status);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect(a.headers[name.toLowerCase()], `${pathname} over the scheme: ${name}`).toBe(value);
    expect(b.headers[name.toLowerCase()], `${pathname} over HTTP: ${name}`).toBe(value);
  }
  for (const name of ['content-type', 'content-length', 'cache-control', 'content-disposition']) expect(b.headers[name], `${pathname}: ${name}`).toBe(a.headers[name]);
  expect(b.body.equals(a.body), `${pathname}: the bytes`).toBe(true);
  return b;
}

describe('one handler for both transports', () => {
  it('serves the renderer, its hashed assets for good, and nothing but plain files inside it', async () => {
    expect((await both('/')).headers['content-type']).toBe('text/html; charset=utf-8');
    expect((await both('/index.html')).headers['cache-control']).toBe('no-cache');
    expect((await both('/assets/index-abc123.js')).headers['cache-control']).toMatch(/immutable/);
    expect((await both('/assets')).status).toBe(404); // a folder is not a file
    expect((await both('/assets/fonts/')).status).toBe(404);
    expect((await both('/assets/leak.txt')).status).toBe(403); // a link out of the build
    expect((await both('/assets/..%2f..%2fsecret.txt')).status).toBe(403);
    expect((await both('/..%5csecret.txt')).status).toBe(400);
    expect((await both('/%E0%A4%A')).status).toBe(400);
    expect((await both('/no-such-file.js')).status).toBe(404);
  });

  it('serves pictures by id only, with their type, and exports as downloads under their name', async () => {
    const shown = await both('/media/display/i1');
    expect(shown.status).toBe(200);
    expect(shown.headers['content-type']).toBe('image/jpeg');
    expect(shown.body.equals(picture)).toBe(true);
    const download = await both('/media/export/e1');
    expect(download.headers['content-disposition']).toBe(`attachment; filename="Sommer_2024___annotations.json"; filename*=UTF-8''${encodeURIComponent('Sommer 2024 – annotations.json')}`);
    for (const p of ['/media/display/i2', '/media/original/i1', '/media/display/..%2f..%2fsecret.txt', '/media/display/']) expect((await both(p)).status, p).toBe(404);
    expect((await both('/media/display/broken')).status).toBe(422);
  });

  it('answers HEAD without a body and refuses to write', async () => {
    const head = await both('/', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect((await both('/media/display/i1', 'HEAD')).headers['content-length']).toBe(String(picture.length));
    for (const method of ['PUT', 'DELETE']) expect((await both('/index.html', method)).status).toBe(405);
  });
});
