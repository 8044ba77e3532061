// The browser build's boundary (src-main/web): it listens on 127.0.0.1 only and answers only its
// own pages; every API method refuses input outside its schema before the service runs; nothing
// outside the built renderer and the workspace's pictures can be read (no "..", no absolute paths,
// no links out); uploads cannot be written outside the upload folder; and paths cannot be opened.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiMethodNames, type ApiService } from '../../src-main/contract/api';
import { CLIENT_HEADER, startWebServer, type WebServer } from '../../src-main/shell/web/server';
import { repoRoot, tempDir } from '../helpers';

/** Raw HTTP (fetch would not let the test set Host or send odd paths as they are). */
function request(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; host?: string },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: options.host ?? '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const apiCall = (port: number, method: string, input: unknown, headers: Record<string, string> = {}) =>
  request(port, {
    method: 'POST',
    path: `/api/${method}`,
    headers: { 'content-type': 'application/json', [CLIENT_HEADER]: '1', host: `127.0.0.1:${port}`, ...headers },
    body: typeof input === 'string' ? input : JSON.stringify(input),
  });

/** Inputs outside each method's schema (every method takes a strict object). */
const badInputs: Record<string, unknown[]> = {
  getImage: [{ id: '../../etc/passwd' }, { id: 5 }],
  setViewedImage: [{ id: 'photo.jpg' }, {}],
  openPaths: [{ paths: [] }, { paths: ['/tmp/a\u0000b'] }],
  openUploads: [{ names: ['../../escape.jpg'] }, { names: ['/etc/passwd'] }, { names: ['a\\..\\b.jpg'] }],
  labelImages: [{ ids: ['../x'] }],
  updateBoxes: [{ id: 'i1', boxes: [{ id: 'b1', categoryId: 1, score: 0.5, bbox: [0, 0, -1, 1], verified: false }] }],
  setSaveLocation: [{ location: '/etc' }],
  getStatistics: [{ minScore: 9 }],
  exportAnnotations: [{ format: 'exe', filter: {} }],
  importCoco: [{ text: 12 }],
  getNearDuplicates: [{ maxDistance: 65 }],
  keepNearDuplicate: [{ groupId: 'group', imageId: 'i1' }],
  getUnusualBoxes: [{ minScore: -1 }],
  exportSplit: [{ filter: {}, val: 1.5 }],
};

describe('the HTTP API (in process, with a service that records what reaches it)', () => {
  let server: WebServer;
  const calls: string[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = fs.realpathSync(tempDir('fd-shell-http-'));
    fs.mkdirSync(path.join(dir, 'renderer', 'assets'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'uploads'));
    fs.writeFileSync(path.join(dir, 'renderer', 'index.html'), '<!doctype html><title>app</title>');
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'not yours\n');
    fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(dir, 'renderer', 'assets', 'leak.txt'));
    fs.mkdirSync(path.join(dir, 'outside'));
    fs.symlinkSync(path.join(dir, 'outside'), path.join(dir, 'uploads', 'planted'));
    const service = new Proxy({} as ApiService, {
      get: (_t, method) => async () => {
        calls.push(String(method));
        return method === 'media' ? undefined : {};
      },
    });
    server = await startWebServer({ service, rendererDir: path.join(dir, 'renderer'), uploadsDir: path.join(dir, 'uploads'), port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(apiMethodNames)('POST /api/%s refuses input outside its schema before the service runs', async (method) => {
    calls.length = 0;
    for (const input of [42, '"text"', [], { unexpected: true }, ...(badInputs[method] ?? [])]) {
      const res = await apiCall(server.port, method, input);
      expect(res.status, `${method} ${JSON.stringify(input)}`).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    }
    expect(calls).toEqual([]);
  });

  it('refuses unknown methods, non-JSON, other sites and callers without the client header', async () => {
    calls.length = 0;
    const port = server.port;
    expect((await apiCall(port, 'readFile', { path: '/etc/passwd' })).status).toBe(404);
    expect((await apiCall(port, 'constructor', {})).status).toBe(404);
    expect((await apiCall(port, 'getWorkspace', '{not json')).status).toBe(400);
    expect((await apiCall(port, 'getWorkspace', {}, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await apiCall(port, 'getWorkspace', {}, { [CLIENT_HEADER]: '' })).status).toBe(403);
    expect((await apiCall(port, 'getWorkspace', {}, { origin: 'https://evil.example' })).status).toBe(403);
    // DNS rebinding: a page of another site that resolves to 127.0.0.1 sends its own Host.
    expect((await apiCall(port, 'getWorkspace', {}, { host: `evil.example:${port}` })).status).toBe(421);
    expect((await request(port, { path: '/api/getWorkspace' })).status).toBe(405);
    expect(calls).toEqual([]);
    expect((await apiCall(port, 'getWorkspace', {})).status).toBe(200);
    expect(calls).toEqual(['getWorkspace']);
  });

  it('serves nothing outside the built renderer', async () => {
    const port = server.port;
    const get = async (p: string) => (await request(port, { path: p, headers: { host: `127.0.0.1:${port}` } })).status;
    expect(await get('/')).toBe(200);
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', `/${encodeURIComponent(path.join(dir, 'secret.txt'))}`, '/assets/leak.txt', '/media/display/..%2f..%2fsecret.txt', '/media/original/i1']) {
      const status = await get(p);
      expect(status, p).toBeGreaterThanOrEqual(400);
      expect(status, p).toBeLessThan(500);
    }
  });

  it('writes uploads only inside the upload folder', async () => {
    const port = server.port;
    const upload = (name: string) =>
      request(port, { method: 'POST', path: `/upload?name=${encodeURIComponent(name)}`, headers: { host: `127.0.0.1:${port}`, [CLIENT_HEADER]: '1', 'content-type': 'application/octet-stream' }, body: 'bytes' });
    for (const name of ['../escape.jpg', '/tmp/escape.jpg', 'a/../../escape.jpg', '.hidden.jpg', 'C:/escape.jpg', 'planted/escape.jpg']) {
      const res = await upload(name);
      expect(res.status, name).toBeGreaterThanOrEqual(400);
    }
    expect(fs.readdirSync(path.join(dir, 'outside'))).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'escape.jpg'))).toBe(false);
    expect((await upload('ok/photo.jpg')).status).toBe(200);
    expect(fs.existsSync(path.join(dir, 'uploads', 'ok', 'photo.jpg'))).toBe(true);
  });
});

describe('npm run web (the real entry and service)', () => {
  let child: ChildProcess;
  let url: URL;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = tempDir('fd-shell-web-');
    child = spawn(process.execPath, [path.join(repoRoot, 'dist/main/shell/web/main.js'), '--port', '0', '--data-dir', dataDir, '--workers', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FASHION_DETECT_BACKEND: 'wasm' },
    });
    url = await new Promise<URL>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const match = /https?:\/\/\S+/.exec(out);
        if (match) resolve(new URL(match[0]));
      });
      child.stderr!.on('data', (d) => (out += d));
      child.on('exit', (code) => reject(new Error(`the web server exited (${code}): ${out}`)));
    });
  });
  afterAll(async () => {
    // The server saves its workspace as it shuts down, so wait for it to exit before removing its folder.
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only', async () => {
    expect(url.hostname).toBe('127.0.0.1');
    const outside = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal)
      .map((a) => a!.address);
    if (outside.length === 0) console.log('SKIP part: this machine has no non-loopback address to try the port on');
    for (const address of outside) {
      const refused = await new Promise<boolean>((resolve) => {
        const socket = net.connect({ host: address, port: Number(url.port), timeout: 2000 });
        socket.on('connect', () => {
          socket.destroy();
          resolve(false);
        });
        socket.on('error', () => resolve(true));
        socket.on('timeout', () => {
          socket.destroy();
          resolve(true);
        });
      });
      expect(refused, `port ${url.port} on ${address}`).toBe(true);
    }
  });

  it('opens no path the browser sends: it uploads instead', async () => {
    const res = await apiCall(Number(url.port), 'openPaths', { paths: [os.homedir()] });
    const result = JSON.parse(res.body);
    expect(result.ok).toBe(false);
    expect(result.error.message).toMatch(/not available here|drop the files/);
    const workspace = JSON.parse((await apiCall(Number(url.port), 'getWorkspace', {})).body);
    expect(workspace).toMatchObject({ ok: true, value: { images: [], features: { dialogs: false, uploads: true } } });
  });

  it('refuses input outside the schema with the reason', async () => {
    const res = await apiCall(Number(url.port), 'getImage', { id: '../../etc/passwd' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.message).toMatch(/^getImage: id: /);
  });
});
