import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';

export const repoRoot = path.resolve(__dirname, '..');
export const cliPath = path.join(repoRoot, 'dist/main/cli/main.js');
export const sharedDataset = path.resolve(repoRoot, '../shared/datasets/ccp-fashion');
export const hasShared = fs.existsSync(path.join(sharedDataset, 'train/annotations.json'));
export const sharedSkipReason = `../shared/datasets/ccp-fashion is not beside the repository (${sharedDataset}), so the tests on real CCP photos are skipped`;
if (!hasShared) console.log(`SKIP: ${sharedSkipReason}`);

/** Names the Chromium (or Chrome) the browser tests drive; "none" runs them without a browser (they skip). */
export const CHROMIUM_ENV = 'FASHION_DETECT_CHROMIUM';
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** Where Playwright keeps the Chromium `npx playwright-core install chromium` downloads (whether or not it is there). */
function playwrightChromium(): string | undefined {
  try {
    // Loaded here, not at the top: only the browser suites pay for it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    return chromium.executablePath() || undefined;
  } catch {
    return undefined; // no build of Playwright's Chromium for this platform
  }
}

/**
 * The Chromium for the browser tests, in this order: the one FASHION_DETECT_CHROMIUM names, the one
 * Playwright installed itself, Debian's /usr/bin/chromium. Without one, `reason` says why, for the
 * suite's one SKIP line.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): { path?: string; reason?: string } {
  const named = env[CHROMIUM_ENV];
  if (named === 'none') return { reason: `${CHROMIUM_ENV}=none asks for no browser` };
  if (named) return fs.existsSync(named) ? { path: named } : { reason: `${CHROMIUM_ENV}=${named} does not exist` };
  const playwrights = playwrightChromium();
  if (playwrights && fs.existsSync(playwrights)) return { path: playwrights };
  if (fs.existsSync(DEBIAN_CHROMIUM)) return { path: DEBIAN_CHROMIUM };
  return {
    reason: `no Chromium (neither ${CHROMIUM_ENV}, nor Playwright's at ${playwrights ?? '(none for this platform)'}, nor ${DEBIAN_CHROMIUM}): apt-get install chromium, or npx playwright-core install chromium`,
  };
}

/** Chromium, headless, kept off the network and the GPU (no sandbox: the tests may run as root). */
export function launchChromium(executablePath: string): Promise<Browser> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
}

export function tempDir(prefix = 'fd-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The first `n` photos of the CCP training set, copied into `dir`; [] without ../shared. */
export function copySharedPhotos(dir: string, n: number, from: 'train/images' | 'unlabeled' = 'train/images'): string[] {
  if (!hasShared) return [];
  const names = fs.readdirSync(path.join(sharedDataset, from)).filter((f) => f.endsWith('.jpg')).sort().slice(0, n);
  fs.mkdirSync(dir, { recursive: true });
  return names.map((name) => {
    const to = path.join(dir, name);
    fs.copyFileSync(path.join(sharedDataset, from, name), to);
    return to;
  });
}

/**
 * A different room behind each scene: large soft patches of light and shade placed by the seed, so
 * that two scenes are distinct photos to the near-duplicate hash (as two street photos are), not
 * copies of one. They stay behind the figure and are paler than its clothes.
 */
function sceneBackground(width: number, height: number, seed: number): string {
  let state = (seed * 2654435761) >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const patches: string[] = [];
  for (let i = 0; i < 7; i++) {
    const lightness = next() < 0.5 ? 35 + next() * 15 : 88 + next() * 10;
    patches.push(`<ellipse cx="${next() * width}" cy="${next() * height}" rx="${(0.15 + next() * 0.25) * width}" ry="${(0.1 + next() * 0.2) * height}" fill="hsl(${Math.floor(next() * 360)},10%,${lightness}%)"/>`);
  }
  return patches.join('');
}

/**
 * A person-like test picture drawn from shapes (used where ../shared is absent): a figure with a
 * top, trousers and shoes on a textured background. It exercises the whole pipeline on real files.
 */
export async function drawScene(width: number, height: number, seed = 1): Promise<sharp.Sharp> {
  const hue = (seed * 47) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="hsl(${hue},25%,80%)"/>
    ${sceneBackground(width, height, seed)}
    <circle cx="${width * 0.5}" cy="${height * 0.14}" r="${width * 0.09}" fill="#d9a07a"/>
    <rect x="${width * 0.3}" y="${height * 0.24}" width="${width * 0.4}" height="${height * 0.3}" rx="12" fill="hsl(${(hue + 180) % 360},60%,45%)"/>
    <rect x="${width * 0.32}" y="${height * 0.54}" width="${width * 0.15}" height="${height * 0.36}" fill="#223355"/>
    <rect x="${width * 0.53}" y="${height * 0.54}" width="${width * 0.15}" height="${height * 0.36}" fill="#223355"/>
    <ellipse cx="${width * 0.39}" cy="${height * 0.93}" rx="${width * 0.1}" ry="${height * 0.025}" fill="#111"/>
    <ellipse cx="${width * 0.61}" cy="${height * 0.93}" rx="${width * 0.1}" ry="${height * 0.025}" fill="#111"/>
    <rect x="${width * 0.72}" y="${height * 0.45}" width="${width * 0.14}" height="${height * 0.12}" rx="6" fill="#7a3b12"/>
  </svg>`;
  return sharp(Buffer.from(svg));
}

/** Runs the built CLI; resolves with its exit code and output. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number; onStderr?: (chunk: string, child: import('node:child_process').ChildProcess) => void } = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, FASHION_DETECT_BACKEND: 'wasm', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      options.onStderr?.(String(d), child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * A PNG whose header says 30000 x 30000 pixels, with real (all-zero, 1-bit) pixel data that deflates
 * to about 100 kB: a decompression bomb in miniature.
 */
export function pngBomb(side = 30000): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rowBytes = 1 + Math.ceil(side / 8);
  const idat = zlib.deflateSync(Buffer.alloc(rowBytes * side), { level: 9 });
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

export interface BadFile {
  name: string;
  /** A word the CLI's reason for this file must contain. */
  reasonPattern: RegExp;
}

/**
 * Writes a corpus of files that must each be refused with a clear reason, and returns what to expect.
 * Used by the CLI tests and the app's tests alike.
 */
export async function writeBadFiles(dir: string): Promise<BadFile[]> {
  fs.mkdirSync(dir, { recursive: true });
  const good = await (await drawScene(300, 450)).jpeg().toBuffer();
  const goodPng = await (await drawScene(300, 450)).png().toBuffer();
  fs.writeFileSync(path.join(dir, 'empty.jpg'), Buffer.alloc(0));
  fs.writeFileSync(path.join(dir, 'truncated.jpg'), good.subarray(0, Math.floor(good.length / 2)));
  fs.writeFileSync(path.join(dir, 'truncated.png'), goodPng.subarray(0, Math.floor(goodPng.length / 2)));
  fs.writeFileSync(path.join(dir, 'notes.jpg'), 'this is a text file with an image name\n');
  fs.writeFileSync(path.join(dir, 'huge.png'), pngBomb());
  fs.writeFileSync(path.join(dir, 'drawing.bmp'), Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]));
  return [
    { name: 'empty.jpg', reasonPattern: /empty/ },
    { name: 'truncated.jpg', reasonPattern: /damaged|truncated/ },
    { name: 'truncated.png', reasonPattern: /damaged|truncated/ },
    { name: 'notes.jpg', reasonPattern: /not a supported image/ },
    { name: 'huge.png', reasonPattern: /too large/ },
    { name: 'drawing.bmp', reasonPattern: /unsupported format/ },
  ];
}

/**
 * Where stored pixel (row, col) of an image with EXIF orientation `o` appears when shown upright,
 * written out from the EXIF specification (not from sharp), so the test checks sharp's use, not itself.
 */
function uprightToStored(o: number, x: number, y: number, uw: number, uh: number): [col: number, row: number] {
  switch (o) {
    case 1: return [x, y];
    case 2: return [uw - 1 - x, y];
    case 3: return [uw - 1 - x, uh - 1 - y];
    case 4: return [x, uh - 1 - y];
    case 5: return [y, x];
    case 6: return [y, uw - 1 - x];
    case 7: return [uh - 1 - y, uw - 1 - x];
    case 8: return [uh - 1 - y, x];
    default: throw new Error(`orientation ${o}`);
  }
}

/** Stores an upright RGB picture as orientation `o`: pixels rearranged, tag set, lossless PNG. */
export async function storeWithOrientation(upright: Buffer, uw: number, uh: number, o: number): Promise<Buffer> {
  const sw = o >= 5 ? uh : uw;
  const sh = o >= 5 ? uw : uh;
  const stored = Buffer.alloc(sw * sh * 3);
  for (let y = 0; y < uh; y++) {
    for (let x = 0; x < uw; x++) {
      const [c, r] = uprightToStored(o, x, y, uw, uh);
      upright.copy(stored, (r * sw + c) * 3, (y * uw + x) * 3, (y * uw + x) * 3 + 3);
    }
  }
  return sharp(stored, { raw: { width: sw, height: sh, channels: 3 } }).withMetadata({ orientation: o }).png().toBuffer();
}


/**
 * A folder others can enter, holding ok.jpg (readable), locked.jpg (mode 000) and private/ (mode 000,
 * with a photo inside): what a run as a non-root user must report as "permission denied".
 * `unlock()` gives the modes back so the temporary folder can be removed.
 */
export async function writeUnreadableFolder(dir: string): Promise<{ unlock: () => void }> {
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o777);
  await (await drawScene(240, 360, 3)).jpeg().toFile(path.join(dir, 'ok.jpg'));
  await (await drawScene(240, 360, 4)).jpeg().toFile(path.join(dir, 'locked.jpg'));
  fs.mkdirSync(path.join(dir, 'private'));
  await (await drawScene(240, 360, 5)).jpeg().toFile(path.join(dir, 'private', 'inside.jpg'));
  fs.chmodSync(path.join(dir, 'ok.jpg'), 0o644);
  fs.chmodSync(path.join(dir, 'locked.jpg'), 0o000);
  fs.chmodSync(path.join(dir, 'private'), 0o000);
  return {
    unlock: () => {
      fs.chmodSync(path.join(dir, 'private'), 0o755);
      fs.chmodSync(path.join(dir, 'locked.jpg'), 0o644);
    },
  };
}

/** Pictures of a figure in a top, trousers and shoes, with a bag (see drawScene), and their COCO file in `dir`; returns its path. */
export async function sceneDataset(dir: string, count: number): Promise<string> {
  const images = [];
  const annotations = [];
  for (let i = 1; i <= count; i++) {
    const w = 300 + 10 * i;
    const h = Math.round(w * 1.5);
    const file = `scene-${i}.jpg`;
    await (await drawScene(w, h, i)).jpeg().toFile(path.join(dir, file));
    images.push({ id: i, file_name: file, width: w, height: h });
    const box = (x1: number, y1: number, x2: number, y2: number, category: number) =>
      annotations.push({ id: annotations.length + 1, image_id: i, category_id: category, bbox: [x1 * w, y1 * h, (x2 - x1) * w, (y2 - y1) * h], area: (x2 - x1) * w * (y2 - y1) * h, iscrowd: 0 });
    box(0.3, 0.24, 0.7, 0.54, 1);
    box(0.32, 0.54, 0.68, 0.9, 2);
    box(0.29, 0.905, 0.49, 0.955, 3);
    box(0.51, 0.905, 0.71, 0.955, 3);
    box(0.72, 0.45, 0.86, 0.57, 4);
  }
  const categories = ['top', 'pants', 'footwear', 'bag'].map((name, i) => ({ id: i + 1, name, supercategory: '' }));
  const file = path.join(dir, 'annotations.json');
  fs.writeFileSync(file, JSON.stringify({ images, annotations, categories }));
  return file;
}

/**
 * Root reads and writes everything, so as root a CLI run meets a permission wall only as `nobody`
 * (uid 65534): the runCli options for that. Skips the test, saying why, when nobody cannot run the
 * built CLI in this checkout.
 */
export async function permissionWallUser(ctx: { skip: () => void }, what: string): Promise<{ uid?: number }> {
  if (process.getuid?.() !== 0) return {};
  if ((await runCli(['--version'], { uid: 65534 })).code !== 0) {
    console.log(`SKIP ${what}: running as root, and user nobody cannot reach the built CLI in this checkout`);
    ctx.skip();
  }
  return { uid: 65534 };
}

/** A COCO file keeping only the categories named (their boxes too), written beside `file` as `<out>`; returns its path. */
export function keepCategories(file: string, names: string[], out: string): string {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  const kept = doc.categories.filter((c: { name: string }) => names.includes(c.name));
  const ids = new Set(kept.map((c: { id: number }) => c.id));
  const target = path.join(path.dirname(file), out);
  fs.writeFileSync(target, JSON.stringify({ ...doc, categories: kept, annotations: doc.annotations.filter((a: { category_id: number }) => ids.has(a.category_id)) }));
  return target;
}
