import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cocoDocumentSchema, cocoProblems, type CocoDocument } from '../../src-main/core/formats/coco';
import { resolveModel } from '../../src-main/core/models/registry';
import { defaultMinScoreOf } from '../../src-main/core/models/manifest';
import { copySharedPhotos, drawScene, permissionWallUser, runCli, tempDir, writeBadFiles, writeUnreadableFolder } from '../helpers';

/** A folder as people have them: nested, odd names, a link loop, broken files beside good photos. */
async function makeFolder(): Promise<{ dir: string; good: string[]; bad: Awaited<ReturnType<typeof writeBadFiles>> }> {
  const dir = tempDir('fd-cli-');
  const good: string[] = [];
  const photos = copySharedPhotos(path.join(dir, 'street'), 5);
  if (photos.length === 0) {
    fs.mkdirSync(path.join(dir, 'street'));
    for (let i = 1; i <= 5; i++) await (await drawScene(360, 540, i)).jpeg().toFile(path.join(dir, 'street', `scene${i}.jpg`));
  }
  good.push(...fs.readdirSync(path.join(dir, 'street')).map((f) => `street/${f}`));
  fs.mkdirSync(path.join(dir, 'sub dir', 'Ünïcode 写真'), { recursive: true });
  await (await drawScene(400, 600, 9)).png().toFile(path.join(dir, 'sub dir', 'Ünïcode 写真', 'фото 1.png'));
  good.push('sub dir/Ünïcode 写真/фото 1.png');
  fs.symlinkSync('..', path.join(dir, 'sub dir', 'loop'));
  fs.symlinkSync('does-not-exist.jpg', path.join(dir, 'dangling.jpg'));
  fs.writeFileSync(path.join(dir, 'readme.txt'), 'not an image, not listed');
  const bad = await writeBadFiles(path.join(dir, 'bad'));
  return { dir, good: good.sort(), bad };
}

function withoutInfo(doc: CocoDocument) {
  return { ...doc, info: {} };
}

describe('fashion-detect label', () => {
  let folder: Awaited<ReturnType<typeof makeFolder>>;
  let whole: CocoDocument;
  let run: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    folder = await makeFolder();
    const out = path.join(tempDir(), 'labels.json');
    run = await runCli(['label', folder.dir, '--out', out, '--min-score', '0.2']);
    whole = JSON.parse(fs.readFileSync(out, 'utf8'));
  });

  it('labels the good photos, lists the others with reasons, and exits 3', () => {
    expect(run.code, run.stderr).toBe(3);
    expect(whole.images.map((i) => i.file_name)).toEqual(folder.good);
    for (const { name, reasonPattern } of folder.bad) {
      const line = run.stderr.split('\n').find((l) => l.includes(`bad/${name}:`));
      expect(line, `${name} in\n${run.stderr}`).toBeDefined();
      expect(line).toMatch(reasonPattern);
    }
    expect(run.stderr).toMatch(/dangling\.jpg: broken or looping link/);
    expect(run.stderr).not.toMatch(/readme\.txt/);
    // Not a terminal: plain progress lines.
    expect(run.stderr).toMatch(/^\d+\/11 images, [\d.]+ img\/s, ETA/m);
  });

  it('writes a valid COCO detection document', () => {
    const parsed = cocoDocumentSchema.parse(whole);
    expect(cocoProblems(parsed)).toEqual([]);
    expect(parsed.images.map((i) => i.id)).toEqual(parsed.images.map((_, k) => k + 1));
    expect(parsed.annotations.map((a) => a.id)).toEqual(parsed.annotations.map((_, k) => k + 1));
    expect(parsed.categories.map((c) => c.name)).toContain('bag');
    for (const a of parsed.annotations) {
      expect(a.area).toBeCloseTo(a.bbox[2] * a.bbox[3], 1);
      expect(a.iscrowd).toBe(0);
      expect(a.score).toBeGreaterThanOrEqual(0.2);
    }
    const png = parsed.images.find((i) => i.file_name.endsWith('фото 1.png'))!;
    expect([png.width, png.height]).toEqual([400, 600]);
  });

  it('gives the same document from shards merged as from one whole run', async () => {
    const dir = tempDir();
    const shards = [];
    for (const k of [1, 2, 3]) {
      const out = path.join(dir, `shard${k}.json`);
      const r = await runCli(['label', folder.dir, '--out', out, '--shard', `${k}/3`, '--min-score', '0.2', '--workers', '1']);
      expect([0, 3]).toContain(r.code);
      shards.push(out);
    }
    const sizes = shards.map((s) => JSON.parse(fs.readFileSync(s, 'utf8')).images.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(folder.good.length);
    const merged = path.join(dir, 'all.json');
    const m = await runCli(['merge', ...shards, '--out', merged]);
    expect(m.code, m.stderr).toBe(0);
    expect(withoutInfo(JSON.parse(fs.readFileSync(merged, 'utf8')))).toEqual(withoutInfo(whole));
    // Merging a shard twice would double its boxes: refused.
    const twice = await runCli(['merge', shards[0], shards[0], '--out', path.join(dir, 'x.json')]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/shards must not overlap/);
  });
});

describe('unreadable files and folders', () => {
  it('lists them with "permission denied" and labels the rest', async (ctx) => {
    const user = await permissionWallUser(ctx, 'unreadable files');
    const dir = tempDir('fd-perm-');
    const folder = await writeUnreadableFolder(dir);
    const outDir = tempDir();
    fs.chmodSync(outDir, 0o777);
    const out = path.join(outDir, 'labels.json');
    const r = await runCli(['label', dir, '--out', out, '--workers', '1'], user);
    folder.unlock();
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/locked\.jpg: permission denied/);
    expect(r.stderr).toMatch(/private: folder cannot be read: permission denied/);
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).images.map((i: { file_name: string }) => i.file_name)).toEqual(['ok.jpg']);
  });
});

describe('fashion-detect detect', () => {
  it('prints one JSON object per image and names the files it could not read', async () => {
    const dir = tempDir();
    const photo = copySharedPhotos(dir, 1)[0] ?? path.join(dir, 'scene.jpg');
    if (!fs.existsSync(photo)) await (await drawScene(360, 540)).jpeg().toFile(photo);
    fs.writeFileSync(path.join(dir, 'broken.jpg'), 'nope');
    const r = await runCli(['detect', photo, path.join(dir, 'broken.jpg'), '--min-score', '0.2']);
    expect(r.code).toBe(3);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0].file).toBe(photo);
    expect(lines[0].width).toBeGreaterThan(0);
    for (const d of lines[0].detections) {
      expect(typeof d.category).toBe('string');
      expect(d.bbox).toHaveLength(4);
      expect(d.score).toBeGreaterThanOrEqual(0.2);
    }
    expect(r.stderr).toMatch(/broken\.jpg: not a supported image/);
  });
});

describe('usage errors exit 1 with a message', () => {
  const cases: [string[], RegExp][] = [
    [['label', '.'], /required option '-o, --out/],
    [['label', '/no/such/folder', '--out', '/tmp/x.json'], /not a folder/],
    [['label', '.', '--out', '/no/such/dir/x.json'], /does not exist/],
    [['label', '.', '--out', '/tmp/x.json', '--shard', '3/2'], /K must be between 1 and N/],
    [['label', '.', '--out', '/tmp/x.json', '--shard', 'half'], /K\/N/],
    [['detect', 'x.jpg', '--min-score', '2'], /from 0 to 1/],
    [['detect', 'x.jpg', '--model', 'no-such-model'], /unknown model "no-such-model"/],
    [['merge', '/no/such.json', '--out', '/tmp/m.json'], /file not found/],
    [['frobnicate'], /unknown command/],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      const r = await runCli(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
    });
  }
});

describe('fashion-detect info', () => {
  it('names the backend and the installed models', async () => {
    const r = await runCli(['info', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.backend).toBe('wasm');
    expect(info.wasmSimd).toBe(true);
    expect(info.models.find((m: { id: string }) => m.id === 'coco-nanodet')).toMatchObject({ installed: true, input: '416x416', defaultMinScore: 0.35 });
    // Where F1 peaked on its validation split, as its manifest says.
    expect(info.models.find((m: { id: string }) => m.id === 'fashion-ccp')).toMatchObject({ installed: true, default: true, defaultMinScore: resolveModel('fashion-ccp').manifest.defaultMinScore });
    expect(resolveModel('fashion-ccp').manifest.defaultMinScore).toBeGreaterThan(0.3);
  });
});

describe('the default minimum score', () => {
  it("is the model's own: fashion-ccp shows boxes from its manifest's default score unless told otherwise", async () => {
    const fromManifest = defaultMinScoreOf(resolveModel('fashion-ccp').manifest);
    expect(fromManifest).toBeGreaterThan(0.2);
    const dir = tempDir();
    const photo = copySharedPhotos(dir, 1, 'unlabeled')[0];
    if (!photo) {
      console.log('NOTE: ../shared is absent: a drawn picture may give no boxes near either threshold, so this check is skipped');
      return;
    }
    const scores = async (args: string[]) => {
      const r = await runCli(['detect', photo, ...args]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout).detections as { score: number }[]).map((d) => d.score);
    };
    const byDefault = await scores([]);
    const low = await scores(['--min-score', '0.2']);
    expect(byDefault.length).toBeGreaterThan(0);
    expect(Math.min(...byDefault)).toBeGreaterThanOrEqual(fromManifest);
    expect(low.filter((s) => s >= fromManifest).sort()).toEqual([...byDefault].sort());
    expect(low.length).toBeGreaterThan(byDefault.length);
  });
});

describe('Ctrl-C during label', () => {
  it('stops, writes what was labelled as a valid document, and exits 130', async () => {
    const dir = tempDir('fd-int-');
    const photos = copySharedPhotos(dir, 40, 'unlabeled');
    if (photos.length === 0) for (let i = 0; i < 40; i++) await (await drawScene(360, 540, i)).jpeg().toFile(path.join(dir, `s${i}.jpg`));
    const out = path.join(tempDir(), 'partial.json');
    let sent = false;
    const r = await runCli(['label', dir, '--out', out, '--workers', '1'], {
      onStderr: (chunk, child) => {
        if (!sent && /^[1-9]\d*\/40 images/m.test(chunk)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted: labelled \d+ of 40 images/);
    const doc = cocoDocumentSchema.parse(JSON.parse(fs.readFileSync(out, 'utf8')));
    expect(cocoProblems(doc)).toEqual([]);
    expect(doc.images.length).toBeGreaterThan(0);
    expect(doc.images.length).toBeLessThan(40);
  });
});
