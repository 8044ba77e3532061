// Training from the window: refusals that say what to do, a tiny training in its own process (below
// the labeller's priority) with progress events, the new model in the list with a comparison against
// the model in use on the held-back photos, cancel and resume, and an app that closes mid-training.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModel } from '../../src-main/core/models/registry';
import { sceneDataset, tempDir } from '../helpers';
import { isTraining, startService, trainTinyModel, type Harness, type TrainingEvent } from './service-harness';

process.env.FASHION_DETECT_BACKEND = 'wasm';

/** The niceness of this process's training child, once it runs (Linux). */
async function childNiceness(): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined;
  for (let tries = 0; tries < 100; tries++) {
    for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (Number(fields[1]) === process.pid && cmdline.includes('train-child.js')) return Number(fields[16]);
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no training process found');
}

const ended = (e: unknown): e is TrainingEvent => isTraining(e as TrainingEvent) && (e as TrainingEvent).training.state !== 'running';

describe('training from the window', () => {
  let userData: string;
  let dataDir: string;
  let photos: string;
  let cocoText: string;
  let h: Harness;
  const services: Harness[] = [];
  const start = () => {
    const s = startService({ dataDir, userDataDir: userData, trainingOverrides: { batchSize: 4 } });
    services.push(s);
    return s;
  };

  beforeAll(async () => {
    userData = tempDir('fd-train-user-');
    dataDir = tempDir('fd-train-data-');
    photos = tempDir('fd-train-photos-');
    const annotations = await sceneDataset(photos, 24);
    cocoText = fs.readFileSync(annotations, 'utf8');
    fs.rmSync(annotations);
    const model = await trainTinyModel(userData, 'scenes-tiny');
    h = startService({ dataDir, userDataDir: userData, model: resolveModel(model), trainingOverrides: { batchSize: 4 } });
    services.push(h);
    await h.service.openPaths({ paths: [photos] });
  });

  afterAll(async () => {
    for (const s of services) await s.service.close();
  });

  it('refuses with the reason and what to do: too few reviewed photos, a category without a reviewed box', async () => {
    const none = await h.service.getTrainingEstimate({ minScore: 0.3 });
    expect(none).toMatchObject({ reviewedPhotos: 0, minimumPhotos: 20, startsFrom: 'scenes-tiny' });
    expect(none.refusal).toBe('review at least 20 photos: accept their boxes with A or Enter once they are right (0 reviewed so far)');
    await expect(h.service.startTraining({ name: 'Too soon', epochs: 1, extraFiles: [] })).rejects.toThrow(/^review at least 20 photos/);

    // The person's boxes, as if reviewed: a COCO file without scores comes in verified.
    expect((await h.service.importCoco({ text: cocoText, fileName: 'scenes.json' })).matched).toBe(24);
    const ready = await h.service.getTrainingEstimate({ minScore: 0.3 });
    expect(ready).toMatchObject({ reviewedPhotos: 24, refusal: null });
    expect(ready.categories.map((c) => [c.name, c.examples])).toEqual([['top', 24], ['pants', 24], ['footwear', 48], ['bag', 24]]);
    expect(ready.setupSeconds).toBeGreaterThan(0);
    expect(ready.secondsPerEpoch).toBeGreaterThan(0);
    // scenes-tiny does not take the wearer's pose: a new model does not either unless asked, and reading with MoveNet costs more.
    expect(ready.pose).toMatchObject({ byDefault: false, problem: null });
    expect(ready.pose.setupSeconds).toBeGreaterThan(ready.setupSeconds);

    const ws = await h.service.getWorkspace();
    const bag = ws.categories.find((c) => c.name === 'bag')!.id;
    // Five photos with a box nobody verified are not reviewed: 19 left.
    for (const img of ws.images.slice(0, 5)) {
      const boxes = (await h.service.getImage({ id: img.id })).boxes;
      await h.service.updateBoxes({ id: img.id, boxes: boxes.map((b, i) => (i === 0 ? { ...b, verified: false } : b)) });
    }
    expect((await h.service.getTrainingEstimate({ minScore: 0 })).refusal).toMatch(/\(19 reviewed so far\)$/);
    // No bag anywhere: training bags is refused; leaving them out is not.
    for (const img of ws.images) {
      const boxes = (await h.service.getImage({ id: img.id })).boxes;
      await h.service.updateBoxes({ id: img.id, boxes: boxes.filter((b) => b.categoryId !== bag).map((b) => ({ ...b, verified: true })) });
    }
    await expect(h.service.startTraining({ name: 'Bags', epochs: 1, categoryIds: [bag], extraFiles: [] })).rejects.toThrow(/^bag has no reviewed box: review photos with a bag, or leave bag out$/);
    await expect(h.service.startTraining({ name: 'Odd', epochs: 1, categoryIds: [99], extraFiles: [] })).rejects.toThrow(/category 99 is not one of this workspace's categories/);
    expect((await h.service.importCoco({ text: cocoText, fileName: 'scenes.json' })).matched).toBe(24);
  });

  it("extra files: a COCO file's boxes and a tags file's tags for open photos not reviewed here train too", async () => {
    const ws = await h.service.getWorkspace();
    const byName = new Map(ws.images.map((i) => [i.name, i.id]));
    for (const n of [21, 22, 23, 24]) {
      const id = byName.get(`scene-${n}.jpg`)!;
      const boxes = (await h.service.getImage({ id })).boxes;
      await h.service.updateBoxes({ id, boxes: boxes.map((b, i) => (i === 0 ? { ...b, verified: false } : b)) });
    }
    expect((await h.service.getTrainingEstimate({ minScore: 0.3 })).reviewedPhotos).toBe(20);
    const doc = JSON.parse(cocoText);
    const extraIds = new Set(doc.images.filter((i: { file_name: string }) => ['scene-21.jpg', 'scene-22.jpg'].includes(i.file_name)).map((i: { id: number }) => i.id));
    const extraCoco = { ...doc, images: doc.images.filter((i: { id: number }) => extraIds.has(i.id)), annotations: doc.annotations.filter((a: { image_id: number }) => extraIds.has(a.image_id)) };
    const tags = {
      images: [{ id: 1, file_name: 'somewhere/scene-23.jpg' }, { id: 2, file_name: 'scene-24.jpg' }, { id: 3, file_name: 'not-open.jpg' }],
      categories: [{ id: 7, name: 'Top' }, { id: 9, name: 'footwear' }],
      image_labels: [{ image_id: 1, category_id: 7 }, { image_id: 2, category_id: 9 }, { image_id: 3, category_id: 9 }],
    };
    await h.service.startTraining({
      name: 'With extras',
      epochs: 1,
      minScore: 0.3,
      extraFiles: [
        { kind: 'coco', fileName: 'more.json', text: JSON.stringify(extraCoco) },
        { kind: 'tags', fileName: 'tags.json', text: JSON.stringify(tags) },
      ],
    });
    expect((await h.service.cancelTraining())?.state).toBe('cancelled');
    const dir = path.join(userData, 'training', 'with-extras');
    const train = JSON.parse(fs.readFileSync(path.join(dir, 'train.json'), 'utf8'));
    expect(train.images).toHaveLength(22);
    expect(train.images.map((i: { file_name: string }) => path.basename(i.file_name))).toEqual(expect.arrayContaining(['scene-21.jpg', 'scene-22.jpg']));
    expect(train.images.every((i: { file_name: string }) => path.isAbsolute(i.file_name))).toBe(true);
    expect(train.annotations).toHaveLength(22 * 5);
    const written = JSON.parse(fs.readFileSync(path.join(dir, 'tags.json'), 'utf8'));
    expect(written.images.map((i: { file_name: string }) => i.file_name)).toEqual([path.join(fs.realpathSync(photos), 'scene-23.jpg'), path.join(fs.realpathSync(photos), 'scene-24.jpg')]);
    expect(written.image_labels).toEqual([{ image_id: 1, category_id: 1 }, { image_id: 2, category_id: 3 }]);
    const { options } = JSON.parse(fs.readFileSync(path.join(dir, 'training-input.json'), 'utf8'));
    expect(options).toMatchObject({ tags: path.join(dir, 'tags.json'), presenceLoss: 1 });
    const log = fs.readFileSync(path.join(dir, 'log.txt'), 'utf8');
    expect(log).toMatch(/more\.json: 2 photos with their boxes/);
    expect(log).toMatch(/tags\.json: 2 tagged photos open here/);
    fs.rmSync(dir, { recursive: true });
    expect((await h.service.importCoco({ text: cocoText, fileName: 'scenes.json' })).matched).toBe(24);
  });

  it("trains in a process of its own below the labeller's priority, with progress; the model joins the list, compared with the model in use on the held-back photos", async () => {
    const started = await h.service.startTraining({ name: 'My scenes', epochs: 2, minScore: 0.3, extraFiles: [] });
    expect(started).toMatchObject({ modelId: 'my-scenes', name: 'My scenes', state: 'running', epochs: 2 });
    const niceness = await childNiceness();
    if (niceness !== undefined) expect(niceness).toBe(19);
    await expect(h.service.startTraining({ name: 'Another', epochs: 1, extraFiles: [] })).rejects.toThrow(/"My scenes" is training/);
    const end = await h.waitFor(ended, 'the end of the training');
    expect(end.training.message).toMatch(/^"My scenes" is ready/);
    expect(end.training).toMatchObject({ state: 'finished', canResume: false });
    const statuses = h.events.filter(isTraining).map((e) => e.training);
    const phases = new Set(statuses.map((s) => s.phase));
    for (const phase of ['preparing', 'features', 'train', 'compare']) expect(phases).toContain(phase);
    const steps = statuses.filter((s) => s.phase === 'train');
    expect(steps.every((s) => s.epochs === 2 && s.epoch >= 1 && typeof s.loss === 'number' && s.etaSeconds !== null)).toBe(true);
    expect(steps.at(-1)!.epoch).toBe(2);

    const comparison = end.training.comparison!;
    expect(comparison).toMatchObject({ photos: 4, current: { id: 'scenes-tiny' }, trained: { id: 'my-scenes' } });
    expect(comparison.perCategory.map((c) => [c.name, c.boxes])).toEqual([['top', 4], ['pants', 4], ['footwear', 8], ['bag', 4]]);
    expect(h.events.some((e) => e.type === 'models')).toBe(true);

    const listed = (await h.service.listModels()).models.find((m) => m.id === 'my-scenes')!;
    expect(listed).toMatchObject({ name: 'My scenes', version: '1.0.0', source: 'trained', categories: ['top', 'pants', 'footwear', 'bag'], problem: null });
    expect(listed.validation?.images).toBe(4);
    const folder = path.join(userData, 'models', 'my-scenes');
    const set = JSON.parse(fs.readFileSync(path.join(folder, 'training-set.json'), 'utf8'));
    expect(set.workspace).toBe(fs.realpathSync(photos));
    expect([...set.train, ...set.val].sort()).toEqual(Array.from({ length: 24 }, (_, i) => `scene-${i + 1}.jpg`).sort());
    expect(set.val).toHaveLength(4);
    expect(fs.readFileSync(path.join(folder, 'training-log.txt'), 'utf8')).toMatch(/starting from scenes-tiny@1\.0\.0: 4 of 4 categories/);
    expect(fs.existsSync(path.join(userData, 'training', 'my-scenes'))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(userData, 'training', 'timings.json'), 'utf8')).secondsPerPhotoEpoch).toBeGreaterThan(0);
    expect((await h.service.getWorkspace()).training).toMatchObject({ modelId: 'my-scenes', state: 'finished' });
  });

  it('switched to, it is evaluated on the reviewed photos it did not train on', async () => {
    await h.service.setModel({ id: 'my-scenes' });
    const result = await h.service.evaluateModel({ minScore: 0.3 });
    expect(result).toMatchObject({ model: 'my-scenes@1.0.0', photos: 4, leftOut: 20 });
    expect(result.perCategory.map((c) => [c.name, c.boxes])).toEqual([['top', 4], ['pants', 4], ['footwear', 8], ['bag', 4]]);
  });

  it("asked to, it learns the wearer's pose though the model it starts from (my-scenes) does not: MoveNet runs on each read", async () => {
    await h.service.startTraining({ name: 'With pose', epochs: 3, minScore: 0.3, extraFiles: [], pose: true });
    await h.waitFor((e) => isTraining(e) && e.training.phase === 'train', 'training steps');
    expect((await h.service.cancelTraining())?.state).toBe('cancelled');
    const dir = path.join(userData, 'training', 'with-pose');
    const checkpoint = JSON.parse(fs.readFileSync(path.join(dir, 'model', 'checkpoint.json'), 'utf8'));
    expect(checkpoint.settings.pose).toBe('pose-movenet-lightning@3.0.4');
    expect(checkpoint.settings.presenceLoss).toBeUndefined(); // no tags: no photo-level loss
    expect(checkpoint.tensors.map((t: { name: string }) => t.name)).toContain('head/pose');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'request.json'), 'utf8')).pose).toBe(true);
    // Resumed by a request that does not say (the window after a restart): still with the pose, from the checkpoint.
    await h.service.startTraining({ name: 'With pose', epochs: 3, minScore: 0.3, extraFiles: [] });
    await h.waitFor((e) => isTraining(e) && e.training.phase === 'train' && e.training.modelId === 'with-pose', 'resumed training steps');
    expect((await h.service.cancelTraining())?.state).toBe('cancelled');
    const log = fs.readFileSync(path.join(dir, 'log.txt'), 'utf8');
    expect(log).toMatch(/resuming from .*checkpoint\.json/);
    expect(log).not.toMatch(/starts over/);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'model', 'checkpoint.json'), 'utf8')).settings.pose).toBe('pose-movenet-lightning@3.0.4');
    fs.rmSync(dir, { recursive: true });
  });

  it('a cancelled training keeps its checkpoint and the same request resumes it, also after the app closed mid-training', async () => {
    const request = { name: 'Resumable', epochs: 6, minScore: 0.3, extraFiles: [] };
    const inTraining = (s: Harness) => s.waitFor((e) => isTraining(e) && e.training.phase === 'train' && e.training.state === 'running', 'training steps');
    await h.service.startTraining(request);
    await inTraining(h);
    const cancelled = await h.service.cancelTraining();
    expect(cancelled).toMatchObject({ modelId: 'resumable', state: 'cancelled', canResume: true });
    expect(cancelled!.message).toMatch(/its checkpoint is kept: train again with the same name and photos to resume/);
    expect(fs.existsSync(path.join(userData, 'training', 'resumable', 'model', 'checkpoint.json'))).toBe(true);

    // The app starts again: it says the training can be resumed, and resumes it.
    const second = start();
    expect((await second.service.getWorkspace()).training).toMatchObject({ modelId: 'resumable', state: 'cancelled', canResume: true });
    await second.service.openPaths({ paths: [photos] });
    await second.service.startTraining(request);
    await inTraining(second);
    // Quitting mid-training: the training saves its checkpoint before the app goes.
    await second.service.close();
    const checkpoint = JSON.parse(fs.readFileSync(path.join(userData, 'training', 'resumable', 'model', 'checkpoint.json'), 'utf8'));
    expect(checkpoint.epoch * 100 + checkpoint.step).toBeGreaterThan(0);

    const third = start();
    const waiting = (await third.service.getWorkspace()).training!;
    expect(waiting).toMatchObject({ state: 'cancelled', canResume: true });
    expect(waiting.message).toMatch(/^"Resumable" stopped at epoch \d of 6; its checkpoint is kept/);
    await third.service.openPaths({ paths: [photos] });
    await third.service.startTraining(request);
    const end = await third.waitFor(ended, 'the end of the resumed training');
    expect(end.training.state, end.training.message ?? '').toBe('finished');
    const log = fs.readFileSync(path.join(userData, 'models', 'resumable', 'training-log.txt'), 'utf8');
    expect(log.match(/resuming from .*checkpoint\.json/g)?.length).toBe(2);
  });
});
