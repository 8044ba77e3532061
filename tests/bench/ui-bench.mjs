// The window's speed, measured in Debian's Chromium against the browser build (npm run bench runs
// this when /usr/bin/chromium is there): time from dropping a 12-megapixel photo to its boxes on
// screen, and frames per second while zooming with 200 boxes drawn and while a batch labels photos.
// Prints one JSON object on stdout.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(root, 'package.json'));
const { chromium } = require('playwright-core');
const sharp = require('sharp');
const photos = path.resolve(root, '../shared/datasets/ccp-fashion/unlabeled');

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-ui-bench-'));
// The models trained in step 4 go to this run's own folder, not the person's.
const server = spawn(process.execPath, [path.join(root, 'dist/main/shell/web/main.js'), '--port', '0', '--data-dir', dataDir], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, FASHION_DETECT_USER_DATA: path.join(dataDir, 'user-data') },
});
const url = await new Promise((resolve, reject) => {
  server.stdout.on('data', (d) => {
    const m = /is at (http\S+)/.exec(String(d));
    if (m) resolve(m[1].endsWith('/') ? m[1] : `${m[1]}/`);
  });
  server.on('exit', (code) => reject(new Error(`web server exited with ${code}`)));
});
const headers = { 'content-type': 'application/json', 'x-fashion-detect': '1' };
const call = async (method, input = {}) => {
  const reply = await (await fetch(`${url}api/${method}`, { method: 'POST', headers, body: JSON.stringify(input) })).json();
  if (!reply.ok) throw new Error(`${method}: ${reply.error}`);
  return reply.value;
};

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const result = {};
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(url);
  await page.getByRole('slider', { name: 'Confidence' }).fill('0');
  await page.waitForTimeout(4000); // the detector workers load their models once, at start

  // 1. A dropped 12-megapixel JPEG (3000x4000): upload, decode, detection, photo and boxes drawn.
  const big = await sharp(path.join(photos, fs.readdirSync(photos).sort()[0])).resize(3000, 4000, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
  result.dropToBoxesMs = [];
  for (const name of ['big1.jpg', 'big2.jpg', 'big3.jpg']) {
    const transfer = await page.evaluateHandle(({ b64, name }) => {
      const bin = atob(b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bytes.length; i++) bytes[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type: 'image/jpeg' }));
      return dt;
    }, { b64: big.toString('base64'), name });
    const t0 = performance.now();
    await page.dispatchEvent('main', 'drop', { dataTransfer: transfer });
    await page.getByRole('listbox', { name: 'Images' }).getByRole('option', { name: new RegExp(`^${name.replace('.', '\\.')}`) }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-box-id]').length > 0 && document.querySelector('img.photo')?.complete, undefined, { polling: 'raf', timeout: 60000 });
    result.dropToBoxesMs.push(Math.round(performance.now() - t0));
  }

  /** Round trips of an edit (updateBoxes, as the window sends one), in ms: median and worst of 20. */
  const editTimes = async () => {
    const image = (await call('getWorkspace')).images.find((i) => i.name === 'big2.jpg');
    const detail = await call('getImage', { id: image.id });
    const times = [];
    for (let k = 0; k < 20; k++) {
      const boxes = detail.boxes.map((b, i) => (i === 0 ? { ...b, bbox: [b.bbox[0] + (k % 2), b.bbox[1], b.bbox[2], b.bbox[3]] } : b));
      const t0 = performance.now();
      await call('updateBoxes', { id: image.id, boxes });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { median: Math.round(times[10] * 10) / 10, max: Math.round(times[19] * 10) / 10 };
  };

  const measureFps = () =>
    page.evaluate(async () => {
      const viewport = document.querySelector('.viewport');
      const frames = [];
      let last = performance.now();
      const end = last + 3000;
      let k = 0;
      await new Promise((resolve) => {
        const frame = (t) => {
          frames.push(t - last);
          last = t;
          const r = viewport.getBoundingClientRect();
          viewport.dispatchEvent(new WheelEvent('wheel', { deltaY: Math.floor(k++ / 30) % 2 ? 40 : -40, clientX: r.x + r.width / 2, clientY: r.y + r.height / 2, bubbles: true, cancelable: true }));
          if (t < end) requestAnimationFrame(frame);
          else resolve();
        };
        requestAnimationFrame(frame);
      });
      frames.shift();
      frames.sort((a, b) => a - b);
      return { fps: Math.round((10 * 1000) / (frames.reduce((a, b) => a + b, 0) / frames.length)) / 10, p95FrameMs: Math.round(frames[Math.floor(frames.length * 0.95)] * 10) / 10 };
    });

  // 2. Zooming around the pointer with 200 boxes (and their tags) on the photo.
  const workspace = await call('getWorkspace');
  const target = workspace.images.find((i) => i.name === 'big1.jpg');
  const boxes = Array.from({ length: 200 }, (_, i) => ({ id: `b${i}`, categoryId: 1 + (i % 13), score: 0.5 + (i % 50) / 100, bbox: [(i % 20) * 140, Math.floor(i / 20) * 380, 130, 360], verified: false }));
  await call('updateBoxes', { id: target.id, boxes });
  await page.getByRole('listbox', { name: 'Images' }).getByRole('option', { name: /^big1\.jpg/ }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-box-id]').length >= 200, undefined, { timeout: 30000 });
  const viewer = await page.getByRole('application', { name: 'Photo viewer' }).boundingBox();
  await page.mouse.move(viewer.x + viewer.width / 2, viewer.y + viewer.height / 2);
  result.zoomWith200Boxes = await measureFps();

  // 3. The same while "Label all" runs over 100 photos in the worker threads.
  const names = fs.readdirSync(photos).filter((f) => f.endsWith('.jpg')).sort().slice(0, 100);
  for (const name of names) {
    await fetch(`${url}upload?name=${encodeURIComponent(`batch/${name}`)}`, { method: 'POST', headers: { 'x-fashion-detect': '1', 'content-type': 'application/octet-stream' }, body: fs.readFileSync(path.join(photos, name)) });
  }
  await call('openUploads', { names: names.map((n) => `batch/${n}`) });
  await call('labelAll');
  await page.waitForTimeout(500);
  result.zoomWith200BoxesDuringBatch = await measureFps();
  const during = await call('getWorkspace');
  result.batchStillRunning = during.images.some((i) => i.state === 'pending' || i.state === 'labelling');

  // 4. Zooming, and an edit's round trip, while "Train model" trains on 24 reviewed photos in its own process.
  result.editMs = await editTimes();
  while ((await call('getWorkspace')).batch.running) await page.waitForTimeout(500);
  const done = (await call('getWorkspace')).images.filter((i) => i.name.startsWith('batch/') && i.state === 'done').slice(0, 24);
  for (const image of done) {
    const detail = await call('getImage', { id: image.id });
    await call('updateBoxes', { id: image.id, boxes: detail.boxes.map((b) => ({ ...b, verified: true })) });
  }
  await call('startTraining', { name: 'bench', epochs: 20 });
  // The part a person would notice: the epochs (reading the photos through the base comes first).
  let status = (await call('getWorkspace')).training;
  while (status?.state === 'running' && status.phase !== 'train') {
    await page.waitForTimeout(1000);
    status = (await call('getWorkspace')).training;
  }
  result.trainingPhase = status?.phase ?? status?.state ?? 'none';
  result.zoomWith200BoxesDuringTraining = await measureFps();
  result.editMsDuringTraining = await editTimes();
  await call('cancelTraining');
} finally {
  await browser.close();
  server.kill('SIGINT');
  await new Promise((r) => server.on('exit', r));
  fs.rmSync(dataDir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
