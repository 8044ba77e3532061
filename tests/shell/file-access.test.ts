// The renderer may read only what the person opened: no "..", no absolute paths elsewhere, no
// symlinks out of an opened folder (OpenedFiles, which decides which paths openPaths accepts), and
// the app scheme's request handler, called exactly as Electron's protocol.handle calls it, serves
// only the built renderer and the workspace's pictures by id. Real files and links in a temp folder.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRendererAsset } from '../../src-main/shell/common/renderer-files';
import { CONTENT_SECURITY_POLICY } from '../../src-main/shell/common/security-headers';
import { OpenedFiles } from '../../src-main/shell/electron/file-access';
import { createAppProtocolHandler, mediaUrl } from '../../src-main/shell/electron/protocol';
import { drawScene, tempDir } from '../helpers';

let root: string;
let photos: string; // the folder the person opened
let elsewhere: string; // a folder they did not open
let renderer: string;
let photo: Buffer;

beforeAll(async () => {
  root = fs.realpathSync(tempDir('fd-shell-access-'));
  photos = path.join(root, 'photos');
  elsewhere = path.join(root, 'private');
  renderer = path.join(root, 'renderer');
  fs.mkdirSync(path.join(photos, 'sub'), { recursive: true });
  fs.mkdirSync(elsewhere);
  fs.mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  photo = await (await drawScene(120, 180)).jpeg().toBuffer();
  fs.writeFileSync(path.join(photos, 'a.jpg'), photo);
  fs.writeFileSync(path.join(photos, 'sub', 'b.jpg'), photo);
  fs.writeFileSync(path.join(elsewhere, 'secret.jpg'), photo);
  fs.writeFileSync(path.join(elsewhere, 'single.jpg'), photo);
  fs.writeFileSync(path.join(root, 'secret.txt'), 'not yours\n');
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>app</title>');
  fs.writeFileSync(path.join(renderer, 'assets', 'index.js'), 'console.log(1)');
  // Links inside the opened folder: one to a file outside, one to a folder outside, one inside.
  fs.symlinkSync(path.join(elsewhere, 'secret.jpg'), path.join(photos, 'link-out.jpg'));
  fs.symlinkSync(elsewhere, path.join(photos, 'dir-out'));
  fs.symlinkSync(path.join(photos, 'a.jpg'), path.join(photos, 'link-in.jpg'));
  fs.symlinkSync(path.join(root, 'secret.txt'), path.join(renderer, 'assets', 'leak.txt'));
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function opened(): OpenedFiles {
  const files = new OpenedFiles();
  files.grantFolder(photos);
  files.grantFile(path.join(elsewhere, 'single.jpg'));
  return files;
}

describe('OpenedFiles.resolve', () => {
  it('serves files in an opened folder, its subfolders and links that stay inside', async () => {
    const files = opened();
    expect(await files.resolve(path.join(photos, 'a.jpg'))).toEqual({ ok: true, file: path.join(photos, 'a.jpg') });
    expect(await files.resolve(path.join(photos, 'sub', 'b.jpg'))).toMatchObject({ ok: true });
    expect(await files.resolve(path.join(photos, 'link-in.jpg'))).toEqual({ ok: true, file: path.join(photos, 'a.jpg') });
  });

  it('serves a single opened file but not its neighbours', async () => {
    const files = opened();
    expect(await files.resolve(path.join(elsewhere, 'single.jpg'))).toMatchObject({ ok: true });
    expect(await files.resolve(path.join(elsewhere, 'secret.jpg'))).toMatchObject({ ok: false, status: 404 });
  });

  it('refuses ".." even when it would land inside the folder', async () => {
    const files = opened();
    expect(await files.resolve(`${photos}/../private/secret.jpg`)).toMatchObject({ ok: false, status: 403 });
    expect(await files.resolve(`${photos}/sub/../a.jpg`)).toMatchObject({ ok: false, status: 403 });
    expect(await files.resolve(`${photos}\\..\\private\\secret.jpg`)).toMatchObject({ ok: false });
  });

  it('refuses relative paths, empty and NUL-laden names', async () => {
    const files = opened();
    expect(await files.resolve('a.jpg')).toMatchObject({ ok: false, status: 400 });
    expect(await files.resolve('')).toMatchObject({ ok: false, status: 400 });
    expect(await files.resolve(`${photos}/a.jpg\0.png`)).toMatchObject({ ok: false, status: 400 });
  });

  it('refuses absolute paths outside what was opened', async () => {
    const files = opened();
    for (const p of [path.join(root, 'secret.txt'), '/etc/passwd', path.join(elsewhere, 'secret.jpg'), photos]) {
      expect(await files.resolve(p), p).toMatchObject({ ok: false });
    }
  });

  it('refuses symlinks that point out of the opened folder', async () => {
    const files = opened();
    expect(await files.resolve(path.join(photos, 'link-out.jpg'))).toMatchObject({ ok: false, status: 404 });
    expect(await files.resolve(path.join(photos, 'dir-out', 'secret.jpg'))).toMatchObject({ ok: false, status: 404 });
  });

  it('forgets everything on clear()', async () => {
    const files = opened();
    files.clear();
    expect(await files.resolve(path.join(photos, 'a.jpg'))).toMatchObject({ ok: false });
  });
});

describe('the renderer files', () => {
  it('serves index.html for / and assets by path', async () => {
    expect(await resolveRendererAsset(renderer, '/')).toEqual({ ok: true, file: path.join(renderer, 'index.html') });
    expect(await resolveRendererAsset(renderer, '/assets/index.js')).toMatchObject({ ok: true });
  });

  it('refuses encoded "..", backslashes and links out of the build', async () => {
    expect(await resolveRendererAsset(renderer, '/%2e%2e/secret.txt')).toMatchObject({ ok: false, status: 403 });
    expect(await resolveRendererAsset(renderer, '/assets/..%2f..%2fsecret.txt')).toMatchObject({ ok: false, status: 403 });
    expect(await resolveRendererAsset(renderer, '/..%5csecret.txt')).toMatchObject({ ok: false, status: 400 });
    expect(await resolveRendererAsset(renderer, '/assets/leak.txt')).toMatchObject({ ok: false, status: 403 });
    expect(await resolveRendererAsset(renderer, '/%E0%A4%A')).toMatchObject({ ok: false, status: 400 });
  });
});

describe('the app scheme handler', () => {
  // The service's media lookup: pictures by id only (it has ids only for images the person opened).
  const media = async (kind: string, id: string) => (kind === 'display' && id === 'i1' ? { bytes: photo, mimeType: 'image/jpeg' } : undefined);
  const handler = () => createAppProtocolHandler({ rendererDir: renderer, media });

  it('returns a picture by id byte for byte, with the CSP', async () => {
    const res = await handler()(new Request(mediaUrl('display', 'i1')));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(Buffer.from(await res.arrayBuffer()).equals(photo)).toBe(true);
  });

  it('answers 404/403/400 for anything that is not the app or a picture of the workspace', async () => {
    const h = handler();
    const status = async (url: string) => (await h(new Request(url))).status;
    expect(await status(mediaUrl('display', 'i2'))).toBe(404);
    // Not a media URL: "not found", as over HTTP (both transports serve common/app-requests.ts).
    expect(await status('fashion-detect://app/media/display/..%2F..%2Fsecret.txt')).toBe(404);
    expect(await status('fashion-detect://app/media/original/i1')).toBe(404);
    expect(await status(`fashion-detect://app/media/display/${encodeURIComponent(path.join(photos, 'a.jpg'))}`)).toBe(404);
    expect(await status('fashion-detect://app/%2e%2e/secret.txt')).toBe(404); // the URL parser drops the ".."
    expect(await status('fashion-detect://app/assets/..%2f..%2fsecret.txt')).toBe(403);
    expect(await status('fashion-detect://app/assets/leak.txt')).toBe(403);
    expect(await status(`fashion-detect://app/${encodeURIComponent(path.join(root, 'secret.txt'))}`)).toBe(404);
    expect(await status('fashion-detect://other/index.html')).toBe(404);
  });

  it('serves the renderer with its CSP and refuses to write', async () => {
    const h = handler();
    const page = await h(new Request('fashion-detect://app/'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await page.text()).toContain('<title>app</title>');
    const post = await h(new Request('fashion-detect://app/index.html', { method: 'POST', body: 'x' }));
    expect(post.status).toBe(405);
  });
});
