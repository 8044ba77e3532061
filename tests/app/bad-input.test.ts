// Bad input in the app: a folder holding the whole corpus of bad files beside good photos in awkward
// formats and names is opened and labelled by the workspace service. Each bad file ends failed with a
// reason a person understands (or is listed when the folder opens), the batch goes on to its end, and
// every good photo is labelled. Needs the compiled detector worker: run `npx tsc -p .` first.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ImageSummary, OpenResult } from '../../src-main/contract/api';
import { WorkspaceService } from '../../src-main/workspace/service';
import { drawScene, repoRoot, tempDir, writeBadFiles, writeUnreadableFolder, type BadFile } from '../helpers';

const childScript = path.join(repoRoot, 'tests/app/workspace-child.mjs');

/** Good photos that are hard to read: colour models, bit depths, animations, names. Name -> upright size. */
async function writeAwkwardGoodFiles(dir: string): Promise<Record<string, [number, number]>> {
  fs.mkdirSync(path.join(dir, 'sub dir', 'Ünïcode 写真'), { recursive: true });
  await (await drawScene(240, 360, 2)).toColourspace('cmyk').jpeg().toFile(path.join(dir, 'cmyk.jpg'));
  await (await drawScene(240, 360, 3)).toColourspace('rgb16').png().toFile(path.join(dir, 'deep 16-bit.png'));
  await (await drawScene(300, 200, 4)).png().toFile(path.join(dir, 'sub dir', 'Ünïcode 写真', 'фото 1.png'));
  await (await drawScene(240, 360, 5)).jpeg().toFile(path.join(dir, 'sub dir', "it's a 😀 photo #1.jpeg"));
  const frames = await Promise.all([6, 7, 8].map(async (seed) => (await drawScene(200, 300, seed)).png().toBuffer()));
  for (const ext of ['gif', 'webp'] as const) {
    await sharp(frames, { join: { animated: true } }).toFormat(ext).toFile(path.join(dir, `animated.${ext}`));
    expect((await sharp(path.join(dir, `animated.${ext}`)).metadata()).pages).toBe(3);
  }
  return {
    'cmyk.jpg': [240, 360],
    'deep 16-bit.png': [240, 360],
    'sub dir/Ünïcode 写真/фото 1.png': [300, 200],
    "sub dir/it's a 😀 photo #1.jpeg": [240, 360],
    'animated.gif': [200, 300],
    'animated.webp': [200, 300],
  };
}

/** Bad files beyond the shared corpus, with what their reason must say. */
function writeMoreBadFiles(dir: string): BadFile[] {
  fs.writeFileSync(path.join(dir, 'bad', 'vector.jpg'), '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
  fs.writeFileSync(path.join(dir, 'bad', 'random bytes.webp'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
  return [
    { name: 'vector.jpg', reasonPattern: /unsupported format svg|not a supported image/ },
    { name: 'random bytes.webp', reasonPattern: /not a supported image/ },
  ];
}

function collect(dataDir: string) {
  const events: ApiEvent[] = [];
  let onEnd: (() => void) | null = null;
  const service = new WorkspaceService({
    dataDir,
    workers: 1,
    autoLabelLimit: 0,
    allowPath: () => true,
    emit: (event) => {
      events.push(event);
      if (event.type === 'progress' && !event.batch.running) onEnd?.();
    },
  });
  const batchEnd = () => new Promise<void>((resolve) => (onEnd = resolve));
  return { service, events, batchEnd };
}

describe('the app on a folder of bad and awkward files', () => {
  let dir: string;
  let good: Record<string, [number, number]>;
  let bad: BadFile[];
  let h: ReturnType<typeof collect>;
  let opened: OpenResult;
  let images: ImageSummary[];

  beforeAll(async () => {
    dir = tempDir('fd-app-bad-');
    good = await writeAwkwardGoodFiles(dir);
    bad = [...(await writeBadFiles(path.join(dir, 'bad'))), ...writeMoreBadFiles(dir)];
    // Links: a loop back to the top, a link to itself, a link to nothing.
    fs.symlinkSync('..', path.join(dir, 'sub dir', 'loop'));
    fs.symlinkSync('self.jpg', path.join(dir, 'self.jpg'));
    fs.symlinkSync('does-not-exist.jpg', path.join(dir, 'dangling.jpg'));
    h = collect(tempDir('fd-app-bad-data-'));
    opened = await h.service.openPaths({ paths: [dir] });
    const ended = h.batchEnd();
    const { queued } = await h.service.labelAll();
    expect(queued).toBe(opened.added);
    await ended;
    images = (await h.service.getWorkspace()).images;
  });

  afterAll(async () => {
    await h.service.close();
  });

  it('opens the folder once, through the link loop, and lists links and formats it cannot use', () => {
    const names = images.map((i) => i.name).sort();
    // Each real file once: the loop back to the top adds no second copy of anything.
    expect(names).toEqual([...Object.keys(good), ...bad.filter((b) => !b.name.endsWith('.bmp')).map((b) => `bad/${b.name}`)].sort());
    const problem = (name: string) => opened.problems.find((p) => p.file === name)?.reason;
    expect(problem('bad/drawing.bmp')).toMatch(/unsupported format BMP/);
    expect(problem('self.jpg')).toMatch(/broken or looping link: too many levels of symbolic links/);
    expect(problem('dangling.jpg')).toMatch(/broken or looping link: not found/);
    expect(opened.problems).toHaveLength(3);
  });

  it('fails each bad file with its own clear reason and labels every good one', () => {
    for (const { name, reasonPattern } of bad.filter((b) => !b.name.endsWith('.bmp'))) {
      const img = images.find((i) => i.name === `bad/${name}`)!;
      expect(img.state, name).toBe('failed');
      expect(img.reason, name).toMatch(reasonPattern);
      expect(img.count).toBe(0);
    }
    for (const [name, [width, height]] of Object.entries(good)) {
      const img = images.find((i) => i.name === name)!;
      expect(img.state, `${name}: ${img.reason}`).toBe('done');
      expect([img.width, img.height], name).toEqual([width, height]);
    }
  });

  it('goes on to the end of the batch and counts both kinds', () => {
    const progress = h.events.filter((e): e is Extract<ApiEvent, { type: 'progress' }> => e.type === 'progress');
    const last = progress.at(-1)!.batch;
    expect(last).toMatchObject({ running: false, cancelled: false, total: images.length, done: Object.keys(good).length, failed: images.length - Object.keys(good).length });
    // No error event: a bad file is the file's problem, not the app's.
    expect(h.events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('keeps the reasons across a reopen, without reading the bad files again', async () => {
    await h.service.saveNow();
    const again = collect(tempDir('fd-app-bad-data2-'));
    try {
      const reopened = await again.service.openPaths({ paths: [dir] });
      expect(reopened.restored).toBe(images.length);
      const ws = await again.service.getWorkspace();
      for (const img of images) {
        const back = ws.images.find((i) => i.name === img.name)!;
        expect([back.state, back.reason, back.count], img.name).toEqual([img.state, img.reason, img.count]);
      }
      expect((await again.service.labelAll()).queued).toBe(0);
    } finally {
      await again.service.close();
    }
    // A failed file given other permissions while the app was closed is tried again by Label all.
    fs.chmodSync(path.join(dir, 'bad', 'notes.jpg'), 0o600);
    const third = collect(tempDir('fd-app-bad-data3-'));
    try {
      expect((await third.service.openPaths({ paths: [dir] })).restored).toBe(images.length);
      const ended = third.batchEnd();
      expect((await third.service.labelAll()).queued).toBe(1);
      await ended;
    } finally {
      await third.service.close();
    }
  });
});

describe('files and folders the app may not read', () => {
  // Root reads everything, so as root the service runs in a child process as `nobody` (uid 65534).
  const asRoot = process.getuid?.() === 0;

  function runChild(args: string[]): Promise<{ code: number | null; lines: Record<string, unknown>[]; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [childScript, ...args], {
        env: { ...process.env, FASHION_DETECT_BACKEND: 'wasm' },
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      });
      let out = '';
      let stderr = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l)), stderr }));
    });
  }

  it('fails the unreadable photo and lists the unreadable folder with "permission denied", and labels the rest', async (ctx) => {
    const dir = tempDir('fd-app-perm-');
    const dataDir = tempDir('fd-app-perm-data-');
    fs.chmodSync(dataDir, 0o777);
    const folder = await writeUnreadableFolder(dir);
    try {
      const probe = await runChild(['probe', '--dir', dir, '--data-dir', dataDir]);
      if (asRoot && probe.code !== 0) {
        console.log(`SKIP unreadable files in the app: running as root, and user nobody cannot run the service from this checkout (${probe.stderr.split('\n')[0]})`);
        ctx.skip();
      }
      const r = await runChild(['label', '--dir', dir, '--data-dir', dataDir]);
      expect(r.code, r.stderr).toBe(0);
      const opened = r.lines.find((l) => l.event === 'opened') as { problems: { file: string; reason: string }[] };
      expect(opened.problems).toEqual([{ file: 'private', reason: 'folder cannot be read: permission denied' }]);
      const labelled = Object.fromEntries(r.lines.filter((l) => l.event === 'labelled').map((l) => [l.name, l]));
      expect(labelled['ok.jpg']).toMatchObject({ state: 'done' });
      expect(labelled['locked.jpg']).toMatchObject({ state: 'failed', reason: 'permission denied' });
      expect(r.lines.find((l) => l.event === 'finished')).toMatchObject({ batch: { done: 1, failed: 1, total: 2 } });
      expect(r.lines.filter((l) => l.event === 'error')).toEqual([]);
    } finally {
      folder.unlock();
    }
  });

  it('refuses to open a folder whose saved work it cannot read, and leaves that work as it was', async (ctx) => {
    const dir = tempDir('fd-app-locked-project-');
    const dataDir = tempDir('fd-app-locked-project-data-');
    for (const d of [dir, dataDir]) fs.chmodSync(d, 0o777);
    await (await drawScene(240, 360, 6)).jpeg().toFile(path.join(dir, 'look.jpg'));
    fs.chmodSync(path.join(dir, 'look.jpg'), 0o644);
    const probe = await runChild(['probe', '--dir', dir, '--data-dir', dataDir]);
    if (asRoot && probe.code !== 0) {
      console.log(`SKIP a saved project the app cannot read: running as root, and user nobody cannot run the service from this checkout (${probe.stderr.split('\n')[0]})`);
      ctx.skip();
    }
    const edit = await runChild(['edit', '--dir', dir, '--data-dir', dataDir, '--edits', '1']);
    expect(edit.code, edit.stderr).toBe(0);
    const projectFile = [path.join(dir, '.fashion-detect', 'project.json'), ...fs.readdirSync(dataDir, { recursive: true }).map((f) => path.join(dataDir, String(f)))].find(
      (f) => path.basename(f) === 'project.json' && fs.existsSync(f),
    )!;
    expect(projectFile, 'the edit was saved').toBeDefined();
    const before = fs.readFileSync(projectFile);
    expect(JSON.parse(before.toString()).images[0].boxes).toHaveLength(1);
    fs.chmodSync(projectFile, 0o000);
    try {
      const r = await runChild(['label', '--dir', dir, '--data-dir', dataDir]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.lines.map((l) => l.event)).not.toContain('opened');
      const failed = r.lines.find((l) => l.event === 'open-failed') as { message: string };
      expect(failed.message).toMatch(/the saved work of .* cannot be read \(permission denied\): nothing was opened/);
    } finally {
      fs.chmodSync(projectFile, 0o644);
    }
    expect(fs.readFileSync(projectFile).equals(before)).toBe(true);
    // Readable again, it opens with the box restored.
    const again = await runChild(['label', '--dir', dir, '--data-dir', dataDir]);
    expect(again.lines.find((l) => l.event === 'opened')).toMatchObject({ added: 1, restored: 1 });
  });
});
