// "Evaluate" on a case worked out by hand: the person accepted exactly the model's boxes at a score s
// (and deleted the rest), so at s the model is right about everything (precision and recall 1, AP 1),
// and at a higher score it still shows only right boxes but finds only those scoring that high.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Box } from '../../src-main/contract/api';
import { countsAtScore } from '../../src-main/core/eval/at-score';
import { resolveModel } from '../../src-main/core/models/registry';
import { sceneDataset, tempDir } from '../helpers';
import { batchEnded, startService, trainTinyModel, type Harness } from './service-harness';

process.env.FASHION_DETECT_BACKEND = 'wasm';

describe('precision and recall at a score', () => {
  it('count the boxes shown that match a true box of their category at IoU 0.5, each true box once', () => {
    const gts = [
      { imageId: 1, categoryId: 1, bbox: [0, 0, 10, 10] as const },
      { imageId: 1, categoryId: 1, bbox: [20, 0, 10, 10] as const },
      { imageId: 2, categoryId: 2, bbox: [0, 0, 10, 10] as const },
    ];
    const dts = [
      { imageId: 1, categoryId: 1, bbox: [0, 0, 10, 10] as const, score: 0.9 }, // right
      { imageId: 1, categoryId: 1, bbox: [1, 0, 10, 10] as const, score: 0.8 }, // the same item again: wrong
      { imageId: 1, categoryId: 2, bbox: [20, 0, 10, 10] as const, score: 0.7 }, // wrong category
      { imageId: 2, categoryId: 2, bbox: [0, 0, 10, 10] as const, score: 0.2 }, // right, but below 0.5
    ];
    const at = countsAtScore([1, 2], [{ id: 1 }, { id: 2 }], gts, dts, 0.5);
    expect(at.perCategory.get(1)).toEqual({ trueBoxes: 2, shown: 2, right: 1, precision: 0.5, recall: 0.5 });
    expect(at.perCategory.get(2)).toEqual({ trueBoxes: 1, shown: 1, right: 0, precision: 0, recall: 0 });
    expect(at.overall).toEqual({ trueBoxes: 3, shown: 3, right: 1, precision: 1 / 3, recall: 1 / 3 });
    expect(countsAtScore([1, 2], [{ id: 2 }], gts, dts, 0.1).perCategory.get(2)).toMatchObject({ shown: 2, right: 1, recall: 1 });
  });
});

describe('evaluateModel', () => {
  let h: Harness;
  let boxesByImage: Map<string, Box[]>;
  let s: number;

  beforeAll(async () => {
    const userData = tempDir('fd-eval-user-');
    const photos = tempDir('fd-eval-photos-');
    await sceneDataset(photos, 6);
    fs.rmSync(path.join(photos, 'annotations.json'));
    const model = await trainTinyModel(userData, 'scenes-tiny');
    h = startService({ dataDir: tempDir('fd-eval-data-'), userDataDir: userData, model: resolveModel(model), detectMinScore: 0.05 });
    await h.service.openPaths({ paths: [photos] });
    await h.service.labelAll();
    await h.waitFor(batchEnded, 'the labelling');
    const ws = await h.service.getWorkspace();
    const all = await Promise.all(ws.images.map(async (i) => [i.id, (await h.service.getImage({ id: i.id })).boxes] as const));
    const scores = all.flatMap(([, boxes]) => boxes.map((b) => b.score)).sort((a, b) => a - b);
    expect(scores.length).toBeGreaterThan(20);
    // s: a score with boxes on both sides of it.
    s = scores[Math.floor(scores.length * 0.6)];
    boxesByImage = new Map();
    for (const [id, boxes] of all) {
      const accepted = boxes.filter((b) => b.score >= s).map((b) => ({ ...b, verified: true }));
      boxesByImage.set(id, accepted);
      await h.service.updateBoxes({ id, boxes: accepted });
    }
  });

  afterAll(async () => {
    await h?.service.close();
  });

  it('at the score the person accepted: everything right, everything found', async () => {
    const result = await h.service.evaluateModel({ minScore: s });
    const reviewed = [...boxesByImage.values()].filter((b) => b.length > 0).length;
    expect(result).toMatchObject({ model: 'scenes-tiny@1.0.0', minScore: s, photos: reviewed, leftOut: 0 });
    expect(result.overall).toMatchObject({ boxes: [...boxesByImage.values()].flat().length, precision: 1, recall: 1 });
    expect(result.overall.ap50).toBeCloseTo(1, 6);
    expect(result.overall.ap).toBeCloseTo(1, 6);
    for (const row of result.perCategory) {
      const boxes = [...boxesByImage.values()].flat().filter((b) => b.categoryId === row.categoryId).length;
      expect(row.boxes, row.name).toBe(boxes);
      if (boxes > 0) expect(row, row.name).toMatchObject({ precision: 1, recall: 1 });
    }
    const progress = h.events.filter((e) => e.type === 'evaluation');
    expect(progress.at(-1)).toEqual({ type: 'evaluation', progress: { done: reviewed, total: reviewed } });
    // The curves are pictures, fetched by id.
    const plot = await h.service.media('plot', result.plotId!);
    expect(plot?.mimeType).toBe('image/png');
    expect((await sharp(Buffer.from(plot!.bytes)).metadata()).width).toBe(640);
    const withBoxes = result.perCategory.find((c) => c.boxes > 0)!;
    expect(await h.service.media('plot', withBoxes.plotId!)).toBeDefined();
  });

  it('at a higher score: still only right boxes shown, and only those scoring that high found', async () => {
    const all = [...boxesByImage.values()].flat();
    const higher = all.map((b) => b.score).sort((a, b) => a - b)[Math.floor(all.length / 2)];
    const result = await h.service.evaluateModel({ minScore: higher });
    expect(result.overall.precision).toBe(1);
    expect(result.overall.recall).toBeCloseTo(all.filter((b) => b.score >= higher).length / all.length, 9);
    for (const row of result.perCategory.filter((c) => c.boxes > 0)) {
      const mine = all.filter((b) => b.categoryId === row.categoryId);
      const shown = mine.filter((b) => b.score >= higher).length;
      expect(row.recall, row.name).toBeCloseTo(shown / mine.length, 9);
      expect(row.precision, row.name).toBe(shown > 0 ? 1 : null);
    }
  });

  it('says what to do when no photo is reviewed', async () => {
    const fresh = startService({ dataDir: tempDir(), userDataDir: tempDir() });
    try {
      await expect(fresh.service.evaluateModel({ minScore: 0.3 })).rejects.toThrow(/no photo is reviewed yet: accept the boxes/);
    } finally {
      await fresh.service.close();
    }
  });
});
