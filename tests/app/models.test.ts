// Choosing the model in the workspace: each photo remembers which model labelled it (saved, shown,
// exported); a model of other categories joins the workspace's list by name; switching relabels only
// the photos nobody reviewed; the choice is remembered; "Add model folder" in both builds.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiMethods, handleApiCall, type DialogHost } from '../../src-main/contract/api';
import { cocoDocumentSchema } from '../../src-main/core/formats/coco';
import { resolveModel } from '../../src-main/core/models/registry';
import { sceneDataset, tempDir } from '../helpers';
import { batchEnded, startService, trainTinyModel, type Harness } from './service-harness';

process.env.FASHION_DETECT_BACKEND = 'wasm';

describe('the model in use', () => {
  let userData: string;
  let dataDir: string;
  let photos: string;
  let h: Harness;
  const others: Harness[] = [];

  beforeAll(async () => {
    userData = tempDir('fd-models-user-');
    dataDir = tempDir('fd-models-data-');
    photos = tempDir('fd-models-photos-');
    await sceneDataset(photos, 6);
    fs.rmSync(path.join(photos, 'annotations.json'));
    const scenes = await trainTinyModel(userData, 'scenes-tiny');
    // A model of other categories: shoes (named with a capital) and handbags, a name the workspace lacks.
    await trainTinyModel(userData, 'shoes', { categories: ['footwear', 'bag'], rename: { footwear: 'Footwear', bag: 'handbag' } });
    h = startService({ dataDir, userDataDir: userData, model: resolveModel(scenes), detectMinScore: 0.01 });
  });

  afterAll(async () => {
    for (const x of [h, ...others]) await x?.service.close();
  });

  it('labels with it, and each photo remembers the model that labelled it', async () => {
    await h.service.openPaths({ paths: [photos] });
    await h.service.labelAll();
    await h.waitFor(batchEnded, 'the end of the batch');
    const ws = await h.service.getWorkspace();
    expect(ws.images).toHaveLength(6);
    expect(ws.images.map((i) => i.model)).toEqual(Array(6).fill('scenes-tiny@1.0.0'));
    expect(ws.categories.map((c) => [c.id, c.name])).toEqual([[1, 'top'], [2, 'pants'], [3, 'footwear'], [4, 'bag']]);
    expect(ws.relabelable).toBe(0);
  });

  it("switching to a model of other categories: its names join the workspace's, a new one with a colour of its own; Label all relabels only the photos nobody reviewed", async () => {
    const ws = await h.service.getWorkspace();
    const reviewed = ws.images[0];
    const kept = (await h.service.getImage({ id: reviewed.id })).boxes.map((b) => ({ ...b, verified: true }));
    expect(kept.length).toBeGreaterThan(0);
    await h.service.updateBoxes({ id: reviewed.id, boxes: kept });

    const switched = await h.service.setModel({ id: 'shoes' });
    expect(switched.model).toMatchObject({ id: 'shoes', source: 'trained', categories: ['Footwear', 'handbag'] });
    expect(switched.relabelable).toBe(5);
    const after = await h.service.getWorkspace();
    expect(after.model.id).toBe('shoes');
    expect(after.relabelable).toBe(5);
    expect(after.categories.map((c) => [c.id, c.name])).toEqual([[1, 'top'], [2, 'pants'], [3, 'footwear'], [4, 'bag'], [5, 'handbag']]);
    const colours = after.categories.map((c) => c.colour);
    expect(new Set(colours).size).toBe(5);
    const listed = await h.service.listModels();
    expect(listed.current).toBe('shoes');
    expect(listed.models.map((m) => [m.id, m.source])).toEqual([['coco-nanodet', 'built-in'], ['fashion-ccp', 'built-in'], ['scenes-tiny', 'trained'], ['shoes', 'trained']]);

    const { queued } = await h.service.labelAll({ relabel: true });
    expect(queued).toBe(5);
    await h.waitFor(batchEnded, 'the end of the relabelling');
    const relabelled = await h.service.getWorkspace();
    expect(relabelled.relabelable).toBe(0);
    // The reviewed photo is as the person left it.
    expect((await h.service.getImage({ id: reviewed.id })).boxes).toEqual(kept);
    expect(relabelled.images[0].model).toBe('scenes-tiny@1.0.0');
    let footwear = 0;
    for (const img of relabelled.images.slice(1)) {
      expect(img.model).toBe('shoes@1.0.0');
      const boxes = (await h.service.getImage({ id: img.id })).boxes;
      for (const b of boxes) expect([3, 5]).toContain(b.categoryId);
      footwear += boxes.filter((b) => b.categoryId === 3).length;
    }
    expect(footwear).toBeGreaterThan(0);
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'settings.json'), 'utf8'))).toMatchObject({ model: 'shoes' });
  });

  it('the photos remember their model through a restart, the chosen model comes back, and the COCO export says which model labelled each', async () => {
    await h.service.saveNow();
    const before = await h.service.getWorkspace();
    const again = startService({ dataDir, userDataDir: userData });
    others.push(again);
    expect((await again.service.getWorkspace()).model.id).toBe('shoes');
    expect((await again.service.openPaths({ paths: [photos] })).restored).toBe(6);
    const ws = await again.service.getWorkspace();
    expect(ws.images.map((i) => [i.name, i.model])).toEqual(before.images.map((i) => [i.name, i.model]));
    expect(ws.categories).toEqual(before.categories);
    const exported = await again.service.exportAnnotations({ format: 'coco', filter: { minScore: 0, verifiedOnly: false } });
    const doc = cocoDocumentSchema.parse(JSON.parse(fs.readFileSync(exported.target!, 'utf8')));
    expect(doc.info.models).toEqual([
      { id: 'shoes', version: '1.0.0', images: 5 },
      { id: 'scenes-tiny', version: '1.0.0', images: 1 },
    ]);
    expect(doc.info.model).toBe('shoes@1.0.0');
    expect(doc.images.map((i) => i.labelled_by).sort()).toEqual(['scenes-tiny@1.0.0', ...Array(5).fill('shoes@1.0.0')]);
    expect(doc.categories.map((c) => c.name)).toEqual(['top', 'pants', 'footwear', 'bag', 'handbag']);
  });

  it('a project of an earlier version (one model for all its photos, no categories of its own) comes back with that model as its photos\' labeller', async () => {
    const folder = tempDir('fd-old-project-');
    for (const n of [1, 2, 3]) fs.copyFileSync(path.join(photos, `scene-${n}.jpg`), path.join(folder, `scene-${n}.jpg`));
    const image = (n: number, verified: boolean) => ({ name: `scene-${n}.jpg`, state: 'done', width: 300 + 10 * n, height: Math.round((300 + 10 * n) * 1.5), boxes: [{ id: `b${n}`, categoryId: 3, score: 0.9, bbox: [10, 10, 50, 20], verified }] });
    fs.mkdirSync(path.join(folder, '.fashion-detect'));
    const project = { format: 'fashion-detect-project', version: 1, home: fs.realpathSync(folder), savedAt: new Date().toISOString(), model: 'fashion-ccp@1.1.0', images: [image(1, false), image(2, true)] };
    fs.writeFileSync(path.join(folder, '.fashion-detect', 'project.json'), JSON.stringify(project));
    const old = startService({ dataDir: tempDir(), userDataDir: userData, model: resolveModel(path.join(userData, 'models', 'scenes-tiny')) });
    others.push(old);
    expect((await old.service.openPaths({ paths: [folder] })).restored).toBe(2);
    const ws = await old.service.getWorkspace();
    expect(ws.images.map((i) => [i.name, i.state, i.model])).toEqual([['scene-1.jpg', 'done', 'fashion-ccp@1.1.0'], ['scene-2.jpg', 'done', 'fashion-ccp@1.1.0'], ['scene-3.jpg', 'pending', undefined]]);
    // Only the photo nobody reviewed may be labelled again.
    expect(ws.relabelable).toBe(1);
    expect(ws.categories.map((c) => c.name)).toEqual(['top', 'pants', 'footwear', 'bag']);
  });

  it('"Add model folder": a folder chosen in the desktop app joins the list; the browser build says it cannot', async () => {
    await expect(h.service.addModelFolder()).rejects.toThrow(/only in the desktop app/);
    const copy = path.join(tempDir('fd-added-'), 'my-export');
    fs.cpSync(path.join(userData, 'models', 'shoes'), copy, { recursive: true });
    const manifestFile = path.join(copy, 'manifest.json');
    fs.writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(manifestFile, 'utf8')), id: 'my-export', name: 'My export' }));
    let answer: string | null = null;
    const refuse = () => Promise.reject(new Error('not this dialog'));
    const dialogs: DialogHost = { chooseImages: refuse, chooseFolder: refuse, chooseExportTarget: refuse, chooseCocoFile: refuse, chooseModelFolder: async () => answer };
    const desktop = startService({ dataDir: tempDir(), userDataDir: userData, dialogs });
    others.push(desktop);
    expect(await desktop.service.addModelFolder()).toEqual({ cancelled: true, model: null });
    answer = copy;
    const added = await desktop.service.addModelFolder();
    expect(added.model).toMatchObject({ id: 'my-export', name: 'My export', source: 'folder', categories: ['Footwear', 'handbag'], problem: null });
    expect(desktop.events.some((e) => e.type === 'models')).toBe(true);
    expect((await desktop.service.listModels()).models.at(-1)?.id).toBe('my-export');
    answer = tempDir();
    await expect(desktop.service.addModelFolder()).rejects.toThrow(/could not add .*no manifest\.json in this model folder/);
    expect((await desktop.service.setModel({ id: 'my-export' })).model.id).toBe('my-export');
    await expect(desktop.service.setModel({ id: 'nothing-like-it' })).rejects.toThrow(/no model "nothing-like-it" is installed/);
  });

  it('answers in the shapes the contract promises', async () => {
    for (const [method, input] of [
      ['listModels', {}],
      ['setModel', { id: 'scenes-tiny' }],
      ['getTrainingEstimate', { minScore: 0.3 }],
      ['labelAll', { relabel: true }],
    ] as const) {
      const result = await handleApiCall(h.service, method, input);
      expect(result.ok, `${method}: ${JSON.stringify(result)}`).toBe(true);
      if (result.ok) apiMethods[method].output.parse(result.value);
    }
    await h.waitFor(batchEnded, 'the end of the batch');
  });
});
