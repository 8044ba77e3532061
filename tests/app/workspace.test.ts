// The workspace service behind the app, on real files: opening folders, labelling with progress,
// edits that survive a crash, exports and imports, and the contract in front of it.
// Needs the compiled detector worker: run `npx tsc -p .` first (npm test does).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiMethods, handleApiCall, type ApiEvent, type Box } from '../../src-main/contract/api';
import { cocoDocumentSchema, cocoProblems } from '../../src-main/core/formats/coco';
import { buildYoloExport } from '../../src-main/core/formats/yolo';
import { copySharedPhotos, drawScene, tempDir, writeBadFiles } from '../helpers';
import { startService, type Harness } from './service-harness';

async function makeFolder(): Promise<{ dir: string; good: string[] }> {
  const dir = tempDir('fd-ws-');
  const photos = copySharedPhotos(path.join(dir, 'street'), 3);
  if (photos.length === 0) {
    fs.mkdirSync(path.join(dir, 'street'));
    for (let i = 1; i <= 3; i++) await (await drawScene(360, 540, i)).jpeg().toFile(path.join(dir, 'street', `scene${i}.jpg`));
  }
  fs.mkdirSync(path.join(dir, 'more', 'deeper'), { recursive: true });
  // Stored sideways with EXIF orientation 6: the service must report the upright size.
  await (await drawScene(300, 480, 7)).jpeg().withMetadata({ orientation: 6 }).toFile(path.join(dir, 'more', 'deeper', 'rotated.jpg'));
  await writeBadFiles(path.join(dir, 'bad'));
  const good = [...fs.readdirSync(path.join(dir, 'street')).map((f) => `street/${f}`), 'more/deeper/rotated.jpg'].sort();
  return { dir, good };
}

const box = (id: string, categoryId: number, bbox: Box['bbox'], verified = true, score = 1): Box => ({ id, categoryId, score, bbox, verified });

describe('workspace service', () => {
  let folder: Awaited<ReturnType<typeof makeFolder>>;
  let dataDir: string;
  let h: Harness;

  beforeAll(async () => {
    folder = await makeFolder();
    dataDir = tempDir('fd-data-');
    h = startService({ dataDir });
  });

  afterAll(async () => {
    await h.service.close();
  });

  it('opens a folder recursively and lists what it cannot read', async () => {
    const result = await h.service.openPaths({ paths: [folder.dir] });
    const ws = await h.service.getWorkspace();
    const names = ws.images.map((i) => i.name);
    for (const g of folder.good) expect(names).toContain(g);
    // Files with image names are listed (they fail when read); the BMP is refused at once, with the reason.
    expect(result.problems.some((p) => p.file.endsWith('drawing.bmp') && /unsupported format/.test(p.reason))).toBe(true);
    expect(ws.images.every((i) => i.state === 'pending')).toBe(true);
    expect(ws.home).toBe(fs.realpathSync(folder.dir));
    // Opening it again adds nothing twice.
    const again = await h.service.openPaths({ paths: [folder.dir] });
    expect(again.added).toBe(0);
    expect(again.alreadyOpen).toBe(result.added);
  });

  it('labels all pending images with progress, failing bad files with their reason', async () => {
    const ws = await h.service.getWorkspace();
    const { queued } = await h.service.labelAll();
    expect(queued).toBe(ws.images.length);
    await h.waitFor((e) => e.type === 'progress' && !e.batch.running, 'the end of the batch');
    const progress = h.events.filter((e): e is Extract<ApiEvent, { type: 'progress' }> => e.type === 'progress').map((e) => e.batch);
    const finished = progress.map((p) => p.done + p.failed);
    expect(finished).toEqual([...finished].sort((a, b) => a - b));
    const last = progress.at(-1)!;
    expect(last.total).toBe(ws.images.length);
    expect(last.done).toBe(folder.good.length);
    expect(last.failed).toBe(ws.images.length - folder.good.length);
    const after = await h.service.getWorkspace();
    for (const img of after.images) {
      if (folder.good.includes(img.name)) expect(img.state).toBe('done');
      else expect(img.state, img.name).toBe('failed');
    }
    const reasons = Object.fromEntries(after.images.filter((i) => i.state === 'failed').map((i) => [path.posix.basename(i.name), i.reason]));
    expect(reasons['empty.jpg']).toMatch(/empty/);
    expect(reasons['truncated.jpg']).toMatch(/damaged|truncated/);
    expect(reasons['huge.png']).toMatch(/too large/);
    const rotated = after.images.find((i) => i.name === 'more/deeper/rotated.jpg')!;
    expect([rotated.width, rotated.height]).toEqual([480, 300]);
  });

  it('answers in the shapes the contract promises', async () => {
    const ws = await h.service.getWorkspace();
    const calls: [keyof typeof apiMethods, unknown][] = [
      ['getWorkspace', {}],
      ['getImage', { id: ws.images[0].id }],
      ['getStatistics', { minScore: 0.3 }],
      ['labelAll', {}],
      ['cancelLabelling', {}],
      ['saveNow', {}],
    ];
    for (const [method, input] of calls) {
      const result = await handleApiCall(h.service, method, input);
      expect(result.ok, method).toBe(true);
      if (result.ok) apiMethods[method].output.parse(result.value);
    }
    const stats = await h.service.getStatistics({ minScore: 0 });
    expect(stats.labelled).toBe(folder.good.length);
    expect(stats.perCategory.reduce((n, c) => n + c.count, 0)).toBe(ws.images.reduce((n, i) => n + i.count, 0));
    // Per image, for the list: every box at 0; at 0.5 only those scoring 0.5 or more.
    expect(stats.perImage).toEqual(Object.fromEntries(ws.images.filter((i) => i.count > 0).map((i) => [i.id, i.count])));
    const at = await h.service.getStatistics({ minScore: 0.5 });
    for (const i of ws.images) {
      const boxes = (await h.service.getImage({ id: i.id })).boxes;
      expect(at.perImage[i.id] ?? 0).toBe(boxes.filter((b) => b.verified || b.score >= 0.5).length);
      expect(at.unverifiedPerImage[i.id] ?? 0).toBe(boxes.filter((b) => !b.verified && b.score >= 0.5).length);
    }
  });

  it('serves thumbnails and display images by id only', async () => {
    const ws = await h.service.getWorkspace();
    const rotated = ws.images.find((i) => i.name === 'more/deeper/rotated.jpg')!;
    const thumb = await h.service.media('thumbnail', rotated.id);
    expect(thumb?.mimeType).toBe('image/jpeg');
    const sharp = (await import('sharp')).default;
    const meta = await sharp(Buffer.from(thumb!.bytes)).metadata();
    // Upright: wider than high, like the picture as shown.
    expect(meta.width!).toBeGreaterThan(meta.height!);
    // Cached on disk: the second time it is the same bytes from the cache folder.
    expect(fs.readdirSync(path.join(dataDir, 'thumbnails')).length).toBeGreaterThan(0);
    const display = await h.service.media('display', rotated.id);
    const dmeta = await sharp(Buffer.from(display!.bytes)).metadata();
    expect([dmeta.width, dmeta.height]).toEqual([480, 300]);
    expect(dmeta.orientation ?? 1).toBe(1);
    expect(await h.service.media('display', 'i99999')).toBeUndefined();
  });

  it('keeps edits through a crash: what was reported saved is on disk', async () => {
    const ws = await h.service.getWorkspace();
    const target = ws.images.find((i) => i.name === folder.good[0])!;
    const detail = await h.service.getImage({ id: target.id });
    const edited = [...detail.boxes.map((b) => ({ ...b })), box('mine1', 7, [10, 20, 50, 40])];
    if (edited[0] && edited[0].id !== 'mine1') Object.assign(edited[0], { categoryId: 3, verified: true });
    const saved = h.waitFor((e) => e.type === 'saved' && e.save.unsaved === 0, 'saved');
    const reply = await h.service.updateBoxes({ id: target.id, boxes: edited });
    expect(reply.revision).toBeGreaterThan(detail.revision);
    await saved;
    // A second service, as after a crash (the first one never closed or snapshotted), restores it all.
    const other = startService({ dataDir });
    try {
      const reopened = await other.service.openPaths({ paths: [folder.dir] });
      expect(reopened.restored).toBe(ws.images.length);
      const ws2 = await other.service.getWorkspace();
      const again = ws2.images.find((i) => i.name === target.name)!;
      const boxes = (await other.service.getImage({ id: again.id })).boxes;
      expect(boxes).toEqual(edited.map((b) => ({ ...b, bbox: b.bbox.map((v) => Math.round(v * 100) / 100) })));
      expect(ws2.images.find((i) => i.name === 'bad/empty.jpg')?.state).toBe('failed');
    } finally {
      await other.service.close();
    }
  });

  it('exports COCO with the filters, valid and in upright pixels', async () => {
    // The photo edited above, with one more box from the model that nobody has looked at.
    const reviewedId = (await h.service.getWorkspace()).images.find((i) => i.name === folder.good[0])!.id;
    const edited = (await h.service.getImage({ id: reviewedId })).boxes;
    await h.service.updateBoxes({ id: reviewedId, boxes: [...edited, box('model2', 3, [5, 5, 30, 30], false, 0.8)] });
    // Verified boxes only: a photo with boxes nobody looked at would be listed as if those items were
    // not there, so it is left out; with no photo reviewed, there is nothing to export, and it says why.
    await expect(h.service.exportAnnotations({ format: 'coco', filter: { minScore: 0, verifiedOnly: true } })).rejects.toThrow(/no photo is reviewed yet/);
    expect((await h.service.getStatistics({ minScore: 0 })).reviewed).toBe(0);
    const accepted = (await h.service.getImage({ id: reviewedId })).boxes.map((b) => ({ ...b, verified: true }));
    await h.service.updateBoxes({ id: reviewedId, boxes: accepted });
    const verifiedOnly = await h.service.exportAnnotations({ format: 'coco', filter: { minScore: 0, verifiedOnly: true } });
    expect([verifiedOnly.images, verifiedOnly.leftOut]).toEqual([1, folder.good.length - 1]);
    expect((await h.service.getStatistics({ minScore: 0 })).reviewed).toBe(1);
    const doc = cocoDocumentSchema.parse(JSON.parse(fs.readFileSync(verifiedOnly.target!, 'utf8')));
    expect(cocoProblems(doc)).toEqual([]);
    expect(doc.images.map((i) => i.file_name)).toEqual([folder.good[0]]);
    expect(doc.annotations).toHaveLength(accepted.length);
    expect(doc.annotations.every((a) => a.verified)).toBe(true);
    expect(doc.annotations.some((a) => a.category_id === 7 && a.bbox.join() === '10,20,50,40')).toBe(true);

    const all = cocoDocumentSchema.parse(JSON.parse(fs.readFileSync((await h.service.exportAnnotations({ format: 'coco', filter: { minScore: 0, verifiedOnly: false } })).target!, 'utf8')));
    expect(all.images.map((i) => i.file_name)).toEqual(folder.good);
    expect(all.images.find((i) => i.file_name === 'more/deeper/rotated.jpg')).toMatchObject({ width: 480, height: 300 });
    // Exporting footwear only, a box nobody looked at in another category does not hold a photo back.
    await h.service.updateBoxes({ id: reviewedId, boxes: [...accepted, box('model3', 3, [5, 5, 30, 30], false, 0.8)] });
    await expect(h.service.exportAnnotations({ format: 'coco', filter: { minScore: 0, verifiedOnly: true } })).rejects.toThrow(/no photo is reviewed yet/);
    const footwearOnly = await h.service.exportAnnotations({ format: 'coco', filter: { categoryIds: [7], minScore: 0, verifiedOnly: true } });
    expect(cocoDocumentSchema.parse(JSON.parse(fs.readFileSync(footwearOnly.target!, 'utf8'))).images.map((i) => i.file_name)).toEqual([folder.good[0]]);
    await h.service.updateBoxes({ id: reviewedId, boxes: accepted });
    const onlyFootwear = cocoDocumentSchema.parse(JSON.parse(fs.readFileSync((await h.service.exportAnnotations({ format: 'coco', filter: { categoryIds: [7], minScore: 0, verifiedOnly: false } })).target!, 'utf8')));
    expect(onlyFootwear.annotations.every((a) => a.category_id === 7)).toBe(true);
    expect(onlyFootwear.annotations.length).toBe(all.annotations.filter((a) => a.category_id === 7).length);
    const high = cocoDocumentSchema.parse(JSON.parse(fs.readFileSync((await h.service.exportAnnotations({ format: 'coco', filter: { minScore: 0.9, verifiedOnly: false } })).target!, 'utf8')));
    // Above the slider, or touched by a person.
    expect(high.annotations.every((a) => a.score! >= 0.9 || a.verified)).toBe(true);
    expect(high.annotations.length).toBe(all.annotations.filter((a) => a.score! >= 0.9 || a.verified).length);
    // The browser build downloads it by id.
    const download = await h.service.media('export', verifiedOnly.downloadId!);
    expect(JSON.parse(Buffer.from(download!.bytes).toString('utf8')).annotations.length).toBe(doc.annotations.length);
  });

  it('exports YOLO and Pascal VOC files per image', async () => {
    const yolo = await h.service.exportAnnotations({ format: 'yolo', filter: { minScore: 0, verifiedOnly: true } });
    const classes = fs.readFileSync(path.join(yolo.target!, 'classes.txt'), 'utf8').trim().split('\n');
    // Verified boxes only: the list of the photos the labels are for names the reviewed photo alone.
    expect(fs.readFileSync(path.join(yolo.target!, 'images.txt'), 'utf8')).toBe(`${folder.good[0]}\n`);
    expect(classes[6]).toBe('footwear');
    const label = fs.readFileSync(path.join(yolo.target!, folder.good[0].replace(/\.[^.]+$/, '.txt')), 'utf8');
    const img = (await h.service.getWorkspace()).images.find((i) => i.name === folder.good[0])!;
    // The footwear box drawn by hand (the photo's other boxes were accepted too).
    const line = label.split('\n').find((l) => l.startsWith('6 ') && Math.abs(Number(l.split(' ')[3]) - 50 / img.width!) < 1e-4)!;
    const [, cx, cy, w, hh] = line.split(' ').map(Number);
    expect(cx).toBeCloseTo((10 + 25) / img.width!, 5);
    expect(cy).toBeCloseTo((20 + 20) / img.height!, 5);
    expect(w).toBeCloseTo(50 / img.width!, 5);
    expect(hh).toBeCloseTo(40 / img.height!, 5);
    const voc = await h.service.exportAnnotations({ format: 'voc', filter: { minScore: 0, verifiedOnly: true } });
    const xml = fs.readFileSync(path.join(voc.target!, folder.good[0].replace(/\.[^.]+$/, '.xml')), 'utf8');
    expect(xml).toContain('<name>footwear</name>');
    expect(xml).toContain('<xmin>11</xmin><ymin>21</ymin><xmax>60</xmax><ymax>60</ymax>');
    expect(voc.annotations).toBe(yolo.annotations);
    // A photo whose labels would take the name of the export's own list is refused, not overwritten.
    const clash = { name: 'images.jpg', width: 10, height: 10, boxes: [box('x1', 1, [1, 1, 5, 5])] };
    expect(() => buildYoloExport([clash], [{ id: 1, name: 'top', supercategory: '' }], { minScore: 0, verifiedOnly: false })).toThrow(/labels of images\.jpg would overwrite the export's own images\.txt/);
  });

  it('imports a COCO file onto the open images of the same name', async () => {
    const exported = await h.service.exportAnnotations({ format: 'coco', filter: { minScore: 0, verifiedOnly: false } });
    const text = fs.readFileSync(exported.target!, 'utf8');
    const other = startService({ dataDir: tempDir('fd-data2-') });
    try {
      // A copy of the photos elsewhere: the names match, the saved work does not come along.
      const copy = tempDir('fd-copy-');
      fs.cpSync(path.join(folder.dir, 'street'), path.join(copy, 'street'), { recursive: true });
      fs.cpSync(path.join(folder.dir, 'more'), path.join(copy, 'more'), { recursive: true });
      await other.service.openPaths({ paths: [copy] });
      const result = await other.service.importCoco({ text });
      expect(result.matched).toBe(folder.good.length);
      expect(result.annotations).toBe(JSON.parse(text).annotations.length);
      const ws = await other.service.getWorkspace();
      const first = ws.images.find((i) => i.name === folder.good[0])!;
      expect(first.state).toBe('done');
      const boxes = (await other.service.getImage({ id: first.id })).boxes;
      expect(boxes.some((b) => b.categoryId === 7 && b.verified && b.bbox.join() === '10,20,50,40')).toBe(true);
      await expect(other.service.importCoco({ text: '{"images": 3}' })).rejects.toThrow(/not a COCO detection document/);
      await expect(other.service.importCoco({ text: 'not json' })).rejects.toThrow(/not JSON/);
    } finally {
      await other.service.close();
    }
  });

  it('moves the saved work between the folder and the app data folder', async () => {
    const beside = path.join(folder.dir, '.fashion-detect', 'project.json');
    await h.service.saveNow();
    expect(fs.existsSync(beside)).toBe(true);
    const info = await h.service.setSaveLocation({ location: 'app-data' });
    expect(info.file!.startsWith(path.join(dataDir, 'projects'))).toBe(true);
    expect(fs.existsSync(info.file!)).toBe(true);
    expect(fs.existsSync(beside)).toBe(false);
    await h.service.setSaveLocation({ location: 'beside-images' });
    expect(fs.existsSync(beside)).toBe(true);
  });

  it('Label all leaves a failed photo alone until its file changes, then labels it', async () => {
    expect((await h.service.labelAll()).queued).toBe(0);
    const fixed = path.join(folder.dir, 'bad', 'truncated.jpg');
    await (await drawScene(240, 360, 9)).jpeg().toFile(fixed);
    expect((await h.service.labelAll()).queued).toBe(1);
    await h.waitFor((e) => e.type === 'progress' && !e.batch.running && e.batch.total === 1, 'the end of the second batch');
    const img = (await h.service.getWorkspace()).images.find((i) => i.name === 'bad/truncated.jpg')!;
    expect(img.state).toBe('done');
    expect(img.reason).toBeUndefined();
    expect((await h.service.labelAll()).queued).toBe(0);
  });

  it('comes back to the photo shown last, after a crash and after a clean close', async () => {
    const reopenedViewed = async (): Promise<string | null> => {
      const other = startService({ dataDir });
      try {
        await other.service.openPaths({ paths: [folder.dir] });
        const ws = await other.service.getWorkspace();
        return ws.images.find((i) => i.id === ws.viewedImageId)?.name ?? null;
      } finally {
        await other.service.close();
      }
    };
    const ws = await h.service.getWorkspace();
    const byName = (name: string) => ws.images.find((i) => i.name === name)!.id;

    // Written to the journal within a moment, without a snapshot: read back as after a crash.
    await expect(h.service.setViewedImage({ id: byName(folder.good[1]) })).resolves.toEqual({ viewedImageId: byName(folder.good[1]) });
    expect((await h.service.getWorkspace()).viewedImageId).toBe(byName(folder.good[1]));
    const journal = path.join(folder.dir, '.fashion-detect', 'journal.jsonl');
    await expect.poll(() => fs.readFileSync(journal, 'utf8')).toContain(`{"t":"viewed","name":"${folder.good[1]}"}`);
    await expect(reopenedViewed()).resolves.toBe(folder.good[1]);
    // Not work: the window's "All work saved" does not wait for it.
    expect((await h.service.getWorkspace()).save.unsaved).toBe(0);

    // In the snapshot once the journal is folded into it.
    await h.service.setViewedImage({ id: byName('more/deeper/rotated.jpg') });
    await h.service.saveNow();
    expect(fs.readFileSync(journal, 'utf8')).toBe('');
    expect(JSON.parse(fs.readFileSync(path.join(folder.dir, '.fashion-detect', 'project.json'), 'utf8')).viewed).toBe('more/deeper/rotated.jpg');
    await expect(reopenedViewed()).resolves.toBe('more/deeper/rotated.jpg');

    // A photo that is gone is not shown: the window starts at the first one.
    const rotated = path.join(folder.dir, 'more', 'deeper', 'rotated.jpg');
    fs.renameSync(rotated, `${rotated}.away`);
    try {
      await expect(reopenedViewed()).resolves.toBeNull();
    } finally {
      fs.renameSync(`${rotated}.away`, rotated);
    }
    await expect(h.service.setViewedImage({ id: 'i999999' })).rejects.toThrow(/no image i999999/);
  });
});

describe('the contract at the boundary', () => {
  let h: Harness;
  let uploads: string;
  beforeAll(() => {
    uploads = tempDir('fd-up-');
    h = startService({ dataDir: tempDir('fd-data3-'), allowPath: undefined, uploadsDir: uploads });
  });
  afterAll(() => h.service.close());

  it('refuses unknown methods and input outside the schemas before the service runs', async () => {
    expect(await handleApiCall(h.service, 'constructor', {})).toMatchObject({ ok: false, error: { code: 'unknown-method' } });
    expect(await handleApiCall(h.service, '__proto__', {})).toMatchObject({ ok: false, error: { code: 'unknown-method' } });
    expect(await handleApiCall(h.service, 'getImage', { id: '../../etc/passwd' })).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(await handleApiCall(h.service, 'getWorkspace', { extra: 1 })).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(await handleApiCall(h.service, 'updateBoxes', { id: 'i1', boxes: [{ id: 'x', categoryId: 1, score: 2, bbox: [0, 0, 1, 1], verified: true }] })).toMatchObject({ ok: false, error: { code: 'bad-input', message: expect.stringContaining('score') } });
    expect(await handleApiCall(h.service, 'openUploads', { names: ['../outside.jpg'] })).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(await handleApiCall(h.service, 'openUploads', { names: ['/etc/passwd'] })).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    const ok = await handleApiCall(h.service, 'getStatistics', {});
    expect(ok).toMatchObject({ ok: true, value: { images: 0 } });
  });

  it('opens no path the person did not choose', async () => {
    const result = await handleApiCall(h.service, 'openPaths', { paths: ['/etc'] });
    expect(result).toMatchObject({ ok: false, error: { code: 'failed', message: expect.stringMatching(/drop the files|Open buttons/) } });
    expect((await h.service.getWorkspace()).images).toEqual([]);
    // Uploads resolve only inside the upload folder, links out of it included.
    fs.symlinkSync('/etc', path.join(uploads, 'escape'));
    const viaLink = await h.service.openUploads({ names: ['escape/hostname.jpg'] });
    expect(viaLink.added).toBe(0);
    expect(viaLink.problems[0].reason).toMatch(/not uploaded|outside/);
    expect(await handleApiCall(h.service, 'openImagesDialog', {})).toMatchObject({ ok: false, error: { message: expect.stringMatching(/desktop app/) } });
  });
});
