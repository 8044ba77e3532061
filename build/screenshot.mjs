#!/usr/bin/env node
// Makes docs/screenshot.png, the README's picture of the window: the browser build with twelve CCP
// photos dropped on it and labelled by the default model, one of them shown. Needs `npm run build`,
// a Chromium (/usr/bin/chromium or FASHION_DETECT_CHROMIUM) and ../shared/datasets/ccp-fashion.
// Usage: node build/screenshot.mjs [--photo NAME] [--out docs/screenshot.png]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { photo: { type: 'string' }, out: { type: 'string', default: 'docs/screenshot.png' }, count: { type: 'string', default: '12' } } });
const source = path.resolve(root, '../shared/datasets/ccp-fashion/unlabeled');
if (!fs.existsSync(source)) throw new Error(`${source} is not there: the screenshot shows CCP photos`);
const names = fs.readdirSync(source).filter((f) => /\.jpe?g$/i.test(f)).sort();
const chosen = names.slice(0, Number(values.count));
// The photo shown: the one named, else the first (unlabeled/ has no 0021.jpg, the old default).
values.photo ??= chosen[0];
if (!names.includes(values.photo)) throw new Error(`${values.photo} is not among the photos of ${source}`);
if (!chosen.includes(values.photo)) chosen.push(values.photo);

function startServer(dataDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'dist/main/shell/web/main.js'), '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /is at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve({ url: m[1], child });
    });
    child.on('exit', (code) => reject(new Error(`the web server exited with ${code}: ${out}`)));
  });
}

const server = await startServer(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-shot-')));
const browser = await chromium.launch({
  executablePath: process.env.FASHION_DETECT_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(server.url);
  const files = chosen.map((name) => ({ name, type: 'image/jpeg', b64: fs.readFileSync(path.join(source, name)).toString('base64') }));
  // A drop of files, as Chromium delivers it.
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    return dt;
  }, files);
  for (const type of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent('main', type, { dataTransfer });
  await page.waitForFunction((n) => document.querySelectorAll('[role=option][aria-label*="done"]').length >= n, files.length, { timeout: 300_000 });
  await page.getByRole('listbox', { name: 'Images' }).getByRole('option', { name: new RegExp(`^${values.photo.replace('.', '\\.')},`) }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-box-id]').length > 0);
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.resolve(root, values.out) });
  console.log(`wrote ${values.out}`);
} finally {
  await browser.close();
  server.child.kill('SIGINT');
}
