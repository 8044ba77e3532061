// Training that starts from an installed model's weights (--init): the head, the tail and the class
// outputs of the categories it knows by name are the source's; new categories start fresh.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src-main/core/base/backend';
import { loadHead, type HeadParams } from '../../src-main/core/models/fpn-head';
import { resolveModel } from '../../src-main/core/models/registry';
import { initialHead, resolveInitModel } from '../../src-main/core/train/init-from-model';
import { train } from '../../src-main/core/train/train';
import { sceneDataset, tempDir } from '../helpers';

process.env.FASHION_DETECT_BACKEND = 'wasm';

const K_BINS = 4 * 9;

/** Column `c` of a [rows, k] matrix. */
function column(t: tf.Tensor, c: number): number[] {
  const [rows, k] = t.shape;
  const data = t.dataSync();
  return Array.from({ length: rows }, (_, r) => data[r * k + c]);
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('a head that starts from an installed model (init)', () => {
  let source: HeadParams;
  let sourceLabels: string[];

  beforeAll(async () => {
    await initBackend();
    const init = resolveInitModel('fashion-ccp', 'coco-nanodet');
    source = loadHead(init.model.dir, init.model.manifest.modelFile).params;
    sourceLabels = init.model.manifest.labels;
  });

  it("takes the source's convolutions, tail, standardisation and the outputs of the classes it knows by name; a new class starts fresh", () => {
    const init = resolveInitModel('fashion-ccp', 'coco-nanodet');
    const shape = { inChannels: 128, width: 96, numClasses: 3, bins: 9, context: true, tailUnits: 3 };
    const { params, matched } = initialHead(shape, ['Footwear', 'scarf', 'bag'], init, 0, () => undefined);
    expect(matched).toEqual(['Footwear', 'bag']);
    for (const name of ['featureMean', 'featureStd', 'conv1', 'bias1', 'context', 'conv2', 'bias2', 'tail1a', 'tailMerge', 'lateral'] as const) {
      expect(maxDiff(params[name]!.dataSync(), source[name]!.dataSync()), name).toBe(0);
    }
    const footwear = sourceLabels.indexOf('footwear');
    const bag = sourceLabels.indexOf('bag');
    expect(column(params.out, 0)).toEqual(column(source.out, footwear));
    expect(column(params.out, 2)).toEqual(column(source.out, bag));
    expect(params.outBias.dataSync()[0]).toBe(source.outBias.dataSync()[footwear]);
    // The new class: a small fresh column with the 1% prior's bias, like no column of the source.
    expect(params.outBias.dataSync()[1]).toBeCloseTo(-Math.log(99), 5);
    for (let c = 0; c < sourceLabels.length; c++) expect(maxDiff(column(params.out, 1), column(source.out, c))).toBeGreaterThan(0.01);
    // The box distances are the source's.
    for (let d = 0; d < K_BINS; d++) expect(column(params.out, 3 + d)).toEqual(column(source.out, sourceLabels.length + d));
  });

  it('trains from it: after a step at a tiny learning rate the weights are still the source\'s, and the model card says where they came from', async () => {
    const dir = tempDir('fd-init-');
    const annotations = await sceneDataset(dir, 8);
    // "handbag": a category fashion-ccp does not have by that name.
    const doc = JSON.parse(fs.readFileSync(annotations, 'utf8'));
    doc.categories.find((c: { name: string }) => c.name === 'bag').name = 'handbag';
    fs.writeFileSync(annotations, JSON.stringify(doc));
    const out = path.join(dir, 'from-ccp');
    const lines: string[] = [];
    const result = await train({ annotations, images: dir, out, init: 'fashion-ccp', epochs: 1, batchSize: 4, learningRate: 1e-9, valSplit: 0.25, input: { width: 224, height: 320 }, cacheDir: false, log: (l) => lines.push(l) });
    expect(result.status).toBe('finished');
    const ccp = `fashion-ccp@${resolveModel('fashion-ccp').manifest.version}`;
    expect(lines).toContain(`starting from ${ccp}: 3 of 4 categories known to it by name; new: handbag`);
    const { spec, params } = loadHead(out, 'head.json');
    expect(spec).toMatchObject({ width: 96, tailUnits: 3, context: true, numClasses: 4 });
    expect(maxDiff(params.conv1.dataSync(), source.conv1.dataSync())).toBeLessThan(1e-5);
    expect(maxDiff(params.tail3b!.dataSync(), source.tail3b!.dataSync())).toBeLessThan(1e-5);
    expect(maxDiff(column(params.out, 2), column(source.out, sourceLabels.indexOf('footwear')))).toBeLessThan(1e-5);
    const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    expect(metrics.settings.init).toBe(ccp);
    expect(fs.readFileSync(path.join(out, 'MODEL_CARD.md'), 'utf8')).toContain(`Started from the weights of ${ccp}`);
    expect(result.split!.val).toHaveLength(2);
    expect(result.split!.train).toHaveLength(6);
  });

  it('refuses a head of another width, and a model that is not a trained head', async () => {
    const dir = tempDir('fd-init-bad-');
    const annotations = await sceneDataset(dir, 3);
    const base = { annotations, images: dir, epochs: 1, input: { width: 224, height: 320 } };
    await expect(train({ ...base, out: path.join(dir, 'a'), init: 'fashion-ccp', width: 8 })).rejects.toThrow(/^init fashion-ccp has a head of width 96: leave out width or give 96$/);
    await expect(train({ ...base, out: path.join(dir, 'b'), init: 'coco-nanodet' })).rejects.toThrow(/init coco-nanodet: training can start only from a model trained by fashion-detect/);
    expect(fs.existsSync(path.join(dir, 'a'))).toBe(false);
  });
});
