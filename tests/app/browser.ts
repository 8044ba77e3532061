// What the browser tests share: the browser build's server (`npm run web`) started on a port of its
// own, its API called directly (to check what the window did), and the gestures and waits of a
// person using the window (a drop of files, the photo on screen settled, a list row scrolled into view).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../helpers';

export interface Server {
  url: string;
  child: ChildProcess;
}

/** `npm run web` on a port of its own, with its data in `dataDir`; `env` adds to the environment (FASHION_DETECT_USER_DATA). */
export function startServer(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist/main/shell/web/main.js'), '--port', '0', '--data-dir', dataDir, '--workers', '1'], {
      env: { ...process.env, FASHION_DETECT_BACKEND: 'wasm', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the web server did not start:\n${out}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /is at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`the web server exited with ${code}:\n${out}`)));
  });
}

export function stopServer(server: Server | undefined, signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
  if (!server || server.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    server.child.once('exit', () => resolve());
    server.child.kill(signal);
  });
}

export async function api<T = any>(server: Server, method: string, input: unknown = {}): Promise<T> {
  const res = await fetch(`${server.url}api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-fashion-detect': '1' }, body: JSON.stringify(input) });
  const body = (await res.json()) as { ok: boolean; value: T; error?: { message: string } };
  if (!body.ok) throw new Error(body.error?.message);
  return body.value;
}

/** The window as the tests look at it: a page of the screenshots' size on the server, its script errors kept in `pageErrors`. */
export async function openWindow(browser: Browser, server: Server, pageErrors: string[], options: { acceptDownloads?: boolean } = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, ...options });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.url);
  return page;
}

/** A drop of files on the window, as Chromium delivers it: a DataTransfer with File objects. */
export async function dropFiles(page: Page, files: { name: string; bytes: Buffer; type: string }[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return dt;
  }, files.map((f) => ({ name: f.name, type: f.type, b64: f.bytes.toString('base64') })));
  await page.dispatchEvent('main', 'dragenter', { dataTransfer });
  await page.dispatchEvent('main', 'dragover', { dataTransfer });
  await page.dispatchEvent('main', 'drop', { dataTransfer });
}

/** The viewer shows the photo selected in the list (selection is at once, the photo's boxes a moment later). */
export const viewerSettled = (page: Page) =>
  page.waitForFunction(() => {
    const option = document.querySelector('[role=option][aria-selected=true]');
    const photo = document.querySelector('img.photo') as HTMLImageElement | null;
    return !!option && !!photo && option.getAttribute('aria-label')!.startsWith(`${photo.alt},`);
  });

/** The row of a photo in the list, scrolled into view: the list keeps only the rows in view in the page. */
export async function photoRow(page: Page, name: string) {
  const list = page.getByRole('listbox', { name: 'Images' });
  const row = list.getByRole('option', { name: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')},`) });
  await list.evaluate((el) => (el.scrollTop = 0));
  for (;;) {
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    if ((await row.count()) > 0) return row;
    const moved = await list.evaluate((el) => {
      const before = el.scrollTop;
      el.scrollTop += el.clientHeight / 2;
      return el.scrollTop !== before;
    });
    if (!moved) throw new Error(`${name} is not in the list`);
  }
}

/** Every box tag on screen: its text, its rectangle, and whether its text is cut (wider than the tag). */
export function boxTags(page: Page): Promise<{ text: string; x: number; y: number; width: number; height: number; cut: boolean }[]> {
  return page.locator('[data-box-tag]').evaluateAll((els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return { text: (e.textContent ?? '').trim(), x: r.x, y: r.y, width: r.width, height: r.height, cut: e.scrollWidth > e.clientWidth };
    }),
  );
}
