import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src-main/core/base/backend';
import { Detector } from '../../src-main/core/detect/detector';
import { defaultModelId, resolveModel } from '../../src-main/core/models/registry';
import { readTrainSet, singleInstanceCategories, splitTrainVal, type TrainSet } from '../../src-main/core/train/dataset';
import { im2colTransposed, conv3x3, linear, resizeTrainable, TRAINING_OPS } from '../../src-main/core/train/ops';
import { loadBaseGraph, NANODET_FPN, nanodetBaseSpec } from '../../src-main/core/models/fpn-base';
import { loadHead, type HeadParams, type HeadTensorName } from '../../src-main/core/models/fpn-head';
import { INFERENCE_OPS } from '../../src-main/core/models/layer-ops';
import { tailBaseOutputs, tunedPyramid } from '../../src-main/core/models/tail';
import { pretrainedTail } from '../../src-main/core/train/pretrained-tail';
import { assignTargets, pyramidLevels } from '../../src-main/core/train/targets';
import { repeatFactors } from '../../src-main/core/train/sampling';
import { train, type TrainOptions } from '../../src-main/core/train/train';
import { WeightAverage } from '../../src-main/core/train/weight-average';
import type { TrainProgress } from '../../src-main/core/train/types';
import { drawScene, hasShared, permissionWallUser, runCli, sceneDataset, sharedDataset, sharedSkipReason, tempDir } from '../helpers';

process.env.FASHION_DETECT_BACKEND = 'wasm';

/** Max |a - b| over two tensors of the same shape. */
function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** Max |a - b| over the weights of two trained heads of the same shape. */
function headWeightDiff(dirA: string, dirB: string): number {
  const [a, b] = [dirA, dirB].map((d) => new Float32Array(fs.readFileSync(path.join(d, 'head.bin')).buffer.slice(0)));
  expect(b.length).toBe(a.length);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  return diff;
}

/** The reference: tfjs's own conv2d and matMul with their own gradients, on the plain cpu backend. */
async function onCpu<T>(f: () => T): Promise<T> {
  await tf.setBackend('cpu');
  try {
    return f();
  } finally {
    await tf.setBackend('wasm');
  }
}

describe('convolutions that train on wasm', () => {
  beforeAll(async () => {
    expect(await initBackend()).toBe('wasm');
  });

  it('im2col puts each shifted input channel in its row, zeros outside the picture', () => {
    // 1 picture, 2x3 pixels, 2 channels: value = 10 * pixel + channel.
    const x = Float32Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 2) + (i % 2));
    const cols = im2colTransposed(x, 1, 2, 3, 2);
    const row = (k: number, c: number) => Array.from(cols.subarray((k * 2 + c) * 6, (k * 2 + c + 1) * 6));
    expect(row(4, 0)).toEqual([0, 10, 20, 30, 40, 50]); // centre tap: the picture itself
    expect(row(4, 1)).toEqual([1, 11, 21, 31, 41, 51]);
    expect(row(0, 0)).toEqual([0, 0, 0, 0, 0, 10]); // up-left tap: only the last pixel has an up-left neighbour
    expect(row(5, 1)).toEqual([11, 21, 0, 41, 51, 0]); // right tap
  });

  it('conv3x3 (forward conv, im2col matMul for the kernel gradient) equals tf.conv2d and its gradients', async () => {
    const x = tf.randomNormal([2, 7, 5, 6], 0, 1, 'float32', 1) as tf.Tensor4D;
    const k = tf.randomNormal([3, 3, 6, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const dy = tf.randomNormal([2, 7, 5, 4], 0, 1, 'float32', 3);
    const mine = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv3x3(a as tf.Tensor4D, b as tf.Tensor4D), dy)))([x, k]);
    const value = conv3x3(x, k);
    const [xs, ks, dys] = [x, k, dy].map((t) => ({ data: t.dataSync().slice(), shape: t.shape }));
    const reference = await onCpu(() => {
      const [xc, kc, dyc] = [xs, ks, dys].map((t) => tf.tensor(t.data, t.shape));
      const v = tf.conv2d(xc as tf.Tensor4D, kc as tf.Tensor4D, 1, 'same');
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), dyc)))([xc, kc]);
      return [v, ...g].map((t) => ({ data: t.dataSync().slice(), shape: t.shape }));
    });
    const [refValue, refDx, refDk] = reference.map((t) => tf.tensor(t.data, t.shape));
    expect(maxDiff(value, refValue)).toBeLessThan(1e-4);
    expect(maxDiff(mine[0], refDx)).toBeLessThan(1e-4);
    expect(maxDiff(mine[1], refDk)).toBeLessThan(1e-4);
  });

  it('linear equals matMul and its gradients', async () => {
    const x = tf.randomNormal([37, 9], 0, 1, 'float32', 4) as tf.Tensor2D;
    const w = tf.randomNormal([9, 5], 0, 1, 'float32', 5) as tf.Tensor2D;
    const dy = tf.randomNormal([37, 5], 0, 1, 'float32', 6);
    const mine = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(linear(a as tf.Tensor2D, b as tf.Tensor2D), dy)))([x, w]);
    // dL/dx = dy w^T and dL/dw = x^T dy, written out.
    expect(maxDiff(mine[0], tf.matMul(dy, tf.transpose(w)))).toBeLessThan(1e-4);
    expect(maxDiff(mine[1], tf.matMul(tf.transpose(x), dy))).toBeLessThan(1e-4);
  });
});

/**
 * A bilinear resize (half-pixel centres) as two dense matrix products, rows then columns, the
 * weights written from the definition: output o samples input (o + 0.5) * in / out - 0.5, clamped.
 */
function denseResize(x: tf.Tensor4D, rows: number, cols: number): tf.Tensor4D {
  const weights = (from: number, to: number) => {
    const m = new Float32Array(to * from);
    for (let o = 0; o < to; o++) {
      const at = Math.max(0, (o + 0.5) * (from / to) - 0.5);
      const lo = Math.min(Math.floor(at), from - 1);
      const hi = Math.min(lo + 1, from - 1);
      m[o * from + lo] += 1 - (at - lo);
      m[o * from + hi] += at - lo;
    }
    return tf.tensor2d(m, [to, from]);
  };
  const [b, h, w, c] = x.shape;
  const byRows = tf.matMul(weights(h, rows), tf.transpose(x, [1, 0, 2, 3]).reshape([h, b * w * c])).reshape([rows, b, w, c]);
  const byCols = tf.matMul(weights(w, cols), tf.transpose(byRows, [2, 1, 0, 3]).reshape([w, b * rows * c])).reshape([cols, b, rows, c]);
  return tf.transpose(byCols, [1, 2, 0, 3]) as tf.Tensor4D;
}

describe('the base\'s last stage, rebuilt to be fine-tuned (tail)', () => {
  beforeAll(async () => {
    expect(await initBackend()).toBe('wasm');
  });

  it('resizes as the graph does, with the gradient of the resize written as matrices (up and down, rows != columns)', () => {
    for (const [from, to] of [
      [[3, 2], [6, 4]],
      [[6, 4], [3, 2]],
      [[5, 3], [3, 2]],
    ] as const) {
      const x = tf.randomNormal([2, from[0], from[1], 3], 0, 1, 'float32', 7) as tf.Tensor4D;
      const dy = tf.randomNormal([2, to[0], to[1], 3], 0, 1, 'float32', 8);
      expect(maxDiff(resizeTrainable(x, to[0], to[1]), tf.image.resizeBilinear(x, [to[0], to[1]], false, true))).toBeLessThan(1e-5);
      expect(maxDiff(denseResize(x, to[0], to[1]), tf.image.resizeBilinear(x, [to[0], to[1]], false, true))).toBeLessThan(1e-5);
      const mine = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(resizeTrainable(a as tf.Tensor4D, to[0], to[1]), dy)))(x);
      const reference = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(denseResize(a as tf.Tensor4D, to[0], to[1]), dy)))(x);
      expect(maxDiff(mine, reference)).toBeLessThan(1e-5);
    }
  });

  it('with the exported weights gives the base graph\'s own pyramid, at a portrait input size', async () => {
    const base = resolveModel('coco-nanodet');
    const [width, height] = [128, 192];
    const spec = nanodetBaseSpec(base.manifest, width, height);
    const graph = await loadBaseGraph(base.dir, base.manifest.modelFile, width, height, spec.int32Overrides);
    const input = tf.randomUniform([1, 3, height, width], -2, 2, 'float32', 9);
    const reference = (graph.execute(input, NANODET_FPN.outputs) as tf.Tensor[]).map((t) => tf.transpose(t, [0, 2, 3, 1]));
    for (const units of [1, 2, 3]) {
      const frozen = (graph.execute(input, tailBaseOutputs(units)) as tf.Tensor[]).map((t) => tf.transpose(t, [0, 2, 3, 1]) as tf.Tensor4D);
      const tail = pretrainedTail(graph, units);
      expect(Object.keys(tail).length).toBe(4 * units + 4);
      for (const ops of [INFERENCE_OPS, TRAINING_OPS]) {
        const mine = tunedPyramid(frozen, tail, ops);
        expect(mine.map((t) => t.shape)).toEqual([[1, 24, 16, 128], [1, 12, 8, 128], [1, 6, 4, 128]]);
        mine.forEach((t, i) => expect(maxDiff(t, reference[i])).toBeLessThan(1e-4));
      }
      // A different first unit changes every level: the top-down path carries it down to stride 8.
      const first = `tail${4 - units}aBias` as const;
      const changed = { ...tail, [first]: tf.add(tail[first]!, 1) };
      tunedPyramid(frozen, changed, INFERENCE_OPS).forEach((t, i) => expect(maxDiff(t, reference[i])).toBeGreaterThan(0.1));
    }
    graph.dispose();
  });
});

describe('target assignment', () => {
  const levels = pyramidLevels(352, 512, [8, 16, 32]);

  it('gives a small box cells of the finest level and a large one cells of the coarsest, with distances from the cell', () => {
    const t = assignTargets(
      [
        { x1: 100, y1: 100, x2: 124, y2: 116, classIndex: 2 }, // small: eyewear-sized
        { x1: 50, y1: 150, x2: 300, y2: 500, classIndex: 5 }, // large: a dress
      ],
      levels,
      9,
    );
    const fine = levels[0].cols * levels[0].rows;
    const mid = fine + levels[1].cols * levels[1].rows;
    const small = [...t.cells].map((c, i) => ({ c, i })).filter(({ i }) => t.classes[i] === 2);
    const large = [...t.cells].map((c, i) => ({ c, i })).filter(({ i }) => t.classes[i] === 5);
    expect(small.length).toBeGreaterThan(0);
    expect(small.every(({ c }) => c < fine)).toBe(true);
    expect(large.length).toBeGreaterThan(0);
    expect(large.every(({ c }) => c >= mid)).toBe(true);
    // The first small cell: centre ((col + .5) * 8, (row + .5) * 8); left + right = box width / stride.
    const { c, i } = small[0];
    const col = c % levels[0].cols;
    const row = Math.floor(c / levels[0].cols);
    expect(t.distances[i * 4]).toBeCloseTo(((col + 0.5) * 8 - 100) / 8, 4);
    expect(t.distances[i * 4 + 1]).toBeCloseTo(((row + 0.5) * 8 - 100) / 8, 4);
    expect(t.distances[i * 4] + t.distances[i * 4 + 2]).toBeCloseTo(24 / 8, 4);
  });

  it('still gives a box smaller than a cell one cell', () => {
    const t = assignTargets([{ x1: 201, y1: 301, x2: 203, y2: 303, classIndex: 0 }], levels, 9);
    expect(t.cells.length).toBe(1);
  });
});

describe('train', () => {
  let dir: string;
  let annotations: string;
  const base = (out: string): TrainOptions => ({
    annotations,
    images: dir,
    out,
    epochs: 2,
    batchSize: 2,
    width: 8,
    valSplit: 0.25,
    learningRate: 0.005,
    input: { width: 224, height: 320 },
    cacheDir: path.join(dir, 'cache'),
  });

  beforeAll(async () => {
    dir = tempDir('fd-train-');
    annotations = await sceneDataset(dir, 8);
  });

  it('writes a model folder that the registry resolves and the Detector runs', async () => {
    const out = path.join(dir, 'models', 'scenes-test');
    const lines: string[] = [];
    const result = await train({ ...base(out), log: (l) => lines.push(l) });
    expect(result.status).toBe('finished');
    expect(result.validation?.images).toBe(2);
    for (const f of ['manifest.json', 'head.json', 'head.bin', 'MODEL_CARD.md', 'metrics.json']) expect(fs.existsSync(path.join(out, f))).toBe(true);
    expect(fs.existsSync(path.join(out, 'checkpoint.json'))).toBe(false);
    expect(lines.some((l) => /^epoch 2\/2: loss [\d.]+, validation AP50/.test(l))).toBe(true);

    const model = resolveModel(out);
    expect(model.manifest).toMatchObject({ id: 'scenes-test', format: 'fpn-head', input: { width: 224, height: 320 }, labels: ['top', 'pants', 'footwear', 'bag'] });
    // Validated, and run, with weighted NMS, as the built-in model is.
    expect(model.manifest.output).toMatchObject({ decoder: 'nanodet', iouThreshold: 0.6, mergeIou: 0.75 });
    const card = fs.readFileSync(path.join(out, 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(/boxes of its category that it suppresses at IoU 0\.75 or more, weighted by score \(weighted NMS; the figures here include it\)/);
    expect(card).toMatch(/6 photos trained on, 2 held out/);
    expect(card).toMatch(/\| footwear \| 16 \|/);
    // The window and the CLI start at the score where F1 peaked on the validation split; two epochs on
    // drawn pictures may find nothing there, and then the model names no default of its own.
    const best = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8')).validation.bestF1;
    expect(model.manifest.defaultMinScore).toBe(best ? Math.round(best.minScore * 100) / 100 : undefined);
    expect(card.includes('unless a person chooses another')).toBe(Boolean(best));

    const detector = await Detector.load(model);
    try {
      const r = await detector.detectFile(path.join(dir, 'scene-1.jpg'), 0);
      expect(r.width).toBe(310);
      expect(r.detections.length).toBeGreaterThan(0);
      for (const d of r.detections) {
        expect(['top', 'pants', 'footwear', 'bag']).toContain(d.category);
        expect(d.bbox[0] + d.bbox[2]).toBeLessThanOrEqual(310.01);
      }
    } finally {
      detector.dispose();
    }
    // A finished folder is not trained over.
    await expect(train(base(out))).rejects.toThrow(/already holds a trained model/);
  });

  it('stops cleanly with a checkpoint and resumes to the same weights as an uninterrupted run', async () => {
    const straight = path.join(dir, 'straight');
    await train(base(straight));

    const resumed = path.join(dir, 'resumed');
    const abort = new AbortController();
    const first = await train({
      ...base(resumed),
      signal: abort.signal,
      onProgress: (p) => {
        if (p.phase === 'train' && p.epoch === 1 && p.step === 2) abort.abort();
      },
    });
    expect(first.status).toBe('stopped');
    expect(fs.existsSync(path.join(resumed, 'checkpoint.json'))).toBe(true);
    expect(fs.existsSync(path.join(resumed, 'manifest.json'))).toBe(false);

    // Other settings on the same folder are refused rather than mixed in.
    await expect(train({ ...base(resumed), width: 16 })).rejects.toThrow(/checkpoint of a different training \(width differ\)/);

    const lines: string[] = [];
    const second = await train({ ...base(resumed), log: (l) => lines.push(l) });
    expect(second.status).toBe('finished');
    expect(lines[0]).toMatch(/^resuming from .*checkpoint\.json: epoch 1, step 2/);
    expect(headWeightDiff(straight, resumed)).toBeLessThan(1e-4);
  });

  it('shares the photos and each batch between threads, with the same result as one thread', async () => {
    const one = path.join(dir, 'one-thread');
    const two = path.join(dir, 'two-threads');
    const lines: string[] = [];
    await train({ ...base(one), threads: 1 });
    // No cache: both threads read photos through the base too.
    await train({ ...base(two), threads: 2, cacheDir: false, log: (l) => lines.push(l) });
    expect(lines.some((l) => /epochs of \d+ steps, 2 threads$/.test(l))).toBe(true);
    // Only the order of the float additions differs.
    expect(headWeightDiff(one, two)).toBeLessThan(1e-4);
  });

  it('reads cached pyramids from their files batch by batch, to the same weights bit for bit; a cache cleared mid-training stops it with a message, and the same command resumes', async () => {
    const inMemory = path.join(dir, 'features-in-memory');
    const fromCache = path.join(dir, 'features-from-cache');
    await train({ ...base(inMemory), threads: 1, cacheDir: false });
    const cacheDir = path.join(dir, 'stream-cache');
    let cleared = false;
    const clearCache = (p: TrainProgress) => {
      if (cleared || p.phase !== 'train' || p.epoch !== 2) return;
      cleared = true;
      for (const f of fs.readdirSync(cacheDir)) fs.rmSync(path.join(cacheDir, f));
    };
    await expect(train({ ...base(fromCache), threads: 1, cacheDir, onProgress: clearCache })).rejects.toThrow(
      /the base's features of a photo, cached in .*stream-cache.*\.f32, cannot be read: it is gone \(was the temporary folder cleared\?\)\. Run the training again: it resumes/,
    );
    expect(fs.existsSync(path.join(fromCache, 'checkpoint.json'))).toBe(true);
    const lines: string[] = [];
    const resumed = await train({ ...base(fromCache), threads: 1, cacheDir, log: (l) => lines.push(l) });
    expect(resumed.status).toBe('finished');
    expect(lines[0]).toMatch(/^resuming from .*checkpoint\.json: epoch 2, step 0/);
    expect(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.f32')).length).toBeGreaterThan(0);
    expect(headWeightDiff(inMemory, fromCache)).toBe(0);

    // Damaged cache files (cut short) are named, not cut up into wrong pyramids.
    for (const f of fs.readdirSync(cacheDir).filter((f) => f.endsWith('.f32'))) fs.truncateSync(path.join(cacheDir, f), fs.statSync(path.join(cacheDir, f)).size - 400);
    await expect(train({ ...base(path.join(dir, 'features-damaged')), threads: 1, cacheDir })).rejects.toThrow(
      /the cache file .*\.f32 hold \d+ values where the base gives \d+: delete it and train again/,
    );
  });

  it('names a cached pyramid by the photo\'s bytes: a copy of the folder elsewhere reuses the cache, a photo changed in place is read anew', async () => {
    const cacheDir = path.join(dir, 'bytes-cache');
    await train({ ...base(path.join(dir, 'bytes-first')), epochs: 1, cacheDir });
    const cached = new Set(fs.readdirSync(cacheDir));
    // 6 training photos in three variants (as they are, mirrored, smaller), 2 validation photos as they are.
    expect(cached.size).toBe(6 * 3 + 2);

    const copy = tempDir('fd-train-copy-');
    for (const f of fs.readdirSync(dir).filter((f) => /^scene-\d+\.jpg$|^annotations\.json$/.test(f))) fs.copyFileSync(path.join(dir, f), path.join(copy, f));
    await train({ ...base(path.join(copy, 'model')), annotations: path.join(copy, 'annotations.json'), images: copy, epochs: 1, cacheDir });
    expect(new Set(fs.readdirSync(cacheDir))).toEqual(cached);

    // The same size, new pixels: a photo edited in place must not be trained on with its old features.
    await (await drawScene(310, 465, 99)).jpeg().toFile(path.join(copy, 'scene-1.jpg'));
    await train({ ...base(path.join(copy, 'model-2')), annotations: path.join(copy, 'annotations.json'), images: copy, epochs: 1, cacheDir });
    const added = fs.readdirSync(cacheDir).filter((f) => !cached.has(f));
    expect(added.length).toBeGreaterThanOrEqual(1);
    expect(added.length).toBeLessThanOrEqual(3);
  });

  it('deletes cache files no training has used for 30 days when a training starts, and keeps (touches) the ones it uses', async () => {
    const cacheDir = path.join(dir, 'prune-cache');
    await train({ ...base(path.join(dir, 'prune-first')), epochs: 1, cacheDir });
    const ours = fs.readdirSync(cacheDir);
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
    for (const f of ours) fs.utimesSync(path.join(cacheDir, f), daysAgo(20), daysAgo(20));
    const stale = path.join(cacheDir, '0123456789abcdef0123456789abcdef.f32');
    fs.writeFileSync(stale, Buffer.alloc(1_500_000));
    fs.utimesSync(stale, daysAgo(31), daysAgo(31));
    const notOurs = path.join(cacheDir, 'notes.txt');
    fs.writeFileSync(notOurs, 'kept');
    fs.utimesSync(notOurs, daysAgo(90), daysAgo(90));

    const lines: string[] = [];
    await train({ ...base(path.join(dir, 'prune-second')), epochs: 1, cacheDir, log: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/caching the base's features of 20 photo variants in .*prune-cache: .* free there \(1 file unused for 30 days deleted, 1.4 MB\)/);
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(notOurs)).toBe(true);
    expect(fs.readdirSync(cacheDir).sort()).toEqual([...ours, 'notes.txt'].sort());
    // Used again, so the next prune keeps them: touched now, not 20 days ago.
    for (const f of ours) expect(fs.statSync(path.join(cacheDir, f)).mtimeMs).toBeGreaterThan(Date.now() - 600_000);
  });

  it('--presence-loss: learns which categories each photo holds through the shared layers; threads and a resume give the same weights, the model does not carry that layer', async () => {
    const withTail = (out: string) => ({ ...base(out), tailUnits: 1, presenceLoss: 1, epochs: 2 });
    const plain = path.join(dir, 'no-presence');
    await train({ ...base(plain), tailUnits: 1, epochs: 2 });
    const one = path.join(dir, 'presence-one');
    await train({ ...withTail(one), threads: 1 });
    const two = path.join(dir, 'presence-two');
    const abort = new AbortController();
    const first = await train({ ...withTail(two), threads: 2, signal: abort.signal, onProgress: (p) => p.phase === 'train' && p.epoch === 2 && p.step === 1 && abort.abort() });
    expect(first.status).toBe('stopped');
    const checkpoint = JSON.parse(fs.readFileSync(path.join(two, 'checkpoint.json'), 'utf8'));
    expect(checkpoint.tensors.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['presence/presence', 'presence/presenceBias']));
    await train({ ...withTail(two), threads: 2 });
    expect(headWeightDiff(one, two)).toBeLessThan(1e-4);
    // The loss moved the shared layers: the tail and head differ from a training without it.
    expect(headWeightDiff(one, plain)).toBeGreaterThan(1e-3);
    const spec = JSON.parse(fs.readFileSync(path.join(one, 'head.json'), 'utf8'));
    expect(spec.tensors.map((t: { name: string }) => t.name)).not.toContain('presence');
    expect(fs.readFileSync(path.join(one, 'MODEL_CARD.md'), 'utf8')).toMatch(/photo-level multi-label loss \(weight 1\)/);
  });

  it('--tune-tail: fine-tunes the base\'s last units, which the model then carries; threads and a resume give the same weights', async () => {
    const straight = path.join(dir, 'tail-straight');
    await train({ ...base(straight), tailUnits: 2, threads: 1 });
    const model = resolveModel(straight);
    expect(model.manifest.base?.outputs).toEqual(tailBaseOutputs(2));
    const { spec, params } = loadHead(straight, 'head.json');
    expect(spec.tailUnits).toBe(2);
    expect(params.tail1a).toBeUndefined();
    expect(fs.readFileSync(path.join(straight, 'MODEL_CARD.md'), 'utf8')).toMatch(/frozen except the last 2 of the 3 units of its backbone's last stage/);
    // The units moved away from the exported weights, at a tenth of the head's learning rate.
    const coco = resolveModel('coco-nanodet');
    const graph = await loadBaseGraph(coco.dir, coco.manifest.modelFile, 224, 320, nanodetBaseSpec(coco.manifest, 224, 320).int32Overrides);
    const exported = pretrainedTail(graph, 2);
    graph.dispose();
    expect(maxDiff(params.tail2a!, exported.tail2a!)).toBeGreaterThan(1e-4);
    const moved = maxDiff(params.tailMerge!, exported.tailMerge!);
    expect(moved).toBeGreaterThan(1e-4);
    expect(moved).toBeLessThan(0.05);

    const detector = await Detector.load(model);
    try {
      const r = await detector.detectFile(path.join(dir, 'scene-1.jpg'), 0);
      expect(r.detections.length).toBeGreaterThan(0);
    } finally {
      detector.dispose();
    }

    // A manifest that names the pyramid's outputs for a head that carries backbone units is refused.
    const mismatched = path.join(dir, 'tail-mismatched');
    fs.cpSync(straight, mismatched, { recursive: true });
    const manifestFile = path.join(mismatched, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    fs.writeFileSync(manifestFile, JSON.stringify({ ...manifest, base: { ...manifest.base, outputs: NANODET_FPN.outputs } }));
    const tensorsBefore = tf.memory().numTensors;
    await expect(Detector.load(resolveModel(mismatched))).rejects.toThrow(/its head takes 4 outputs of the base \(it carries 2 units of the backbone\), but the manifest names 3/);
    expect(tf.memory().numTensors).toBe(tensorsBefore); // the head's weights loaded for the check are disposed
    // A manifest with a category fewer than the head: refused, and nothing left loaded.
    fs.writeFileSync(manifestFile, JSON.stringify({ ...manifest, labels: manifest.labels.slice(1) }));
    await expect(Detector.load(resolveModel(mismatched))).rejects.toThrow(/the head's \d+ classes and \d+ bins do not match the manifest/);
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    // Two threads, stopped in the first epoch and resumed (both optimisers' state in the checkpoint).
    const resumed = path.join(dir, 'tail-resumed');
    const abort = new AbortController();
    const first = await train({ ...base(resumed), tailUnits: 2, threads: 2, signal: abort.signal, onProgress: (p) => p.phase === 'train' && p.step === 2 && abort.abort() });
    expect(first.status).toBe('stopped');
    expect((await train({ ...base(resumed), tailUnits: 2, threads: 2 })).status).toBe('finished');
    expect(headWeightDiff(straight, resumed)).toBeLessThan(1e-4);
  });

  it('--ema: the model is the average of the weights over the steps (validated, written, resumed); the log and the card show both', async () => {
    const plain = path.join(dir, 'ema-plain');
    await train({ ...base(plain), tailUnits: 1, threads: 1 });
    const straight = path.join(dir, 'ema-straight');
    const lines: string[] = [];
    await train({ ...base(straight), tailUnits: 1, threads: 1, emaDecay: 0.9, log: (l) => lines.push(l) });
    // The same steps (no random number is drawn for the average), a different model: the average's.
    expect(headWeightDiff(plain, straight)).toBeGreaterThan(1e-4);
    const epochLine = lines.find((l) => l.startsWith('epoch 2/2'))!;
    expect(epochLine).toMatch(/validation AP50 [\d.]+, AP [\d.]+ \(without the weight average: [\d.]+, [\d.]+\)/);
    const plainHistory = JSON.parse(fs.readFileSync(path.join(plain, 'metrics.json'), 'utf8')).history;
    const history = JSON.parse(fs.readFileSync(path.join(straight, 'metrics.json'), 'utf8')).history;
    // The trained weights themselves are the plain run's, step for step.
    expect(history.map((h: { unaveraged: { valAp50: number } }) => h.unaveraged.valAp50)).toEqual(plainHistory.map((h: { valAp50: number }) => h.valAp50));
    const card = fs.readFileSync(path.join(straight, 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(/an exponential moving average of the trained weights over the steps \(decay 0\.9 a step\)/);
    expect(card).toMatch(/\| epoch \| loss \| val AP50 \| val AP50 without the average \|/);

    // Stopped in the first epoch and resumed: the average comes back from the checkpoint.
    const resumed = path.join(dir, 'ema-resumed');
    const abort = new AbortController();
    const first = await train({ ...base(resumed), tailUnits: 1, threads: 1, emaDecay: 0.9, signal: abort.signal, onProgress: (p) => p.phase === 'train' && p.step === 2 && abort.abort() });
    expect(first.status).toBe('stopped');
    await expect(train({ ...base(resumed), tailUnits: 1, threads: 1 })).rejects.toThrow(/checkpoint of a different training \(emaDecay differ\)/);
    expect((await train({ ...base(resumed), tailUnits: 1, threads: 1, emaDecay: 0.9 })).status).toBe('finished');
    expect(headWeightDiff(straight, resumed)).toBeLessThan(1e-4);
  });

  it('the weight average follows the weights closely at first, then at its decay', () => {
    const params = { w: tf.tensor1d([0]) } as unknown as HeadParams;
    const fast = WeightAverage.start(0.9, params, ['w' as HeadTensorName]);
    const slow = WeightAverage.start(0.3, params, ['w' as HeadTensorName]);
    params.w = tf.tensor1d([1]) as never;
    const seen = (a: WeightAverage) => {
      a.update(params);
      const p = a.averagedParams(params);
      const v = p.w!.dataSync()[0];
      a.disposeAveraged(p);
      return v;
    };
    // Decays (1 + t) / (4 + t): 0.25, 0.4, 0.5; the slow one is held at 0.3 from the second step.
    expect([seen(fast), seen(fast), seen(fast)].map((v) => v.toFixed(4))).toEqual(['0.7500', '0.9000', '0.9500']);
    expect([seen(slow), seen(slow), seen(slow)].map((v) => v.toFixed(4))).toEqual(['0.7500', '0.9250', '0.9775']);
  });

  it('shows photos with rare categories more often (repeat-factor sampling)', () => {
    // 10 photos: footwear on all, skirt on 1, bag on 5. Threshold 0.4: skirt sqrt(0.4 / 0.1) = 2, bag and footwear 1.
    const photo = (id: number, classes: number[]) => ({ id, file: '', fileName: '', width: 1, height: 1, boxes: classes.map((c) => ({ bbox: [0, 0, 1, 1] as [number, number, number, number], classIndex: c, categoryId: c + 1 })) });
    const photos = Array.from({ length: 10 }, (_, i) => photo(i + 1, [0, ...(i === 0 ? [1] : []), ...(i < 5 ? [2] : [])]));
    const r = repeatFactors(photos, 3, 0.4);
    expect(r.get(1)).toBeCloseTo(2, 6);
    expect(r.get(2)).toBe(1);
    expect(r.get(10)).toBe(1);
    // Threshold 0.9: bag (half the photos) sqrt(0.9 / 0.5); a photo takes its rarest category's factor.
    const r2 = repeatFactors(photos, 3, 0.9);
    expect(r2.get(1)).toBeCloseTo(3, 6);
    expect(r2.get(3)).toBeCloseTo(Math.sqrt(1.8), 6);
    expect(repeatFactors(photos, 3, 0).get(1)).toBe(1);
  });

  it('CLI: shows progress, stops on Ctrl-C with a checkpoint (exit 130), and the same command resumes', async () => {
    const out = path.join(dir, 'cli-model');
    const args = ['train', '--coco', annotations, '--images', dir, '--out', out, '--width', '8', '--batch-size', '2', '--input', '224x320', '--progress', 'lines'];
    let sent = false;
    let seen = '';
    const first = await runCli([...args, '--epochs', '100'], {
      onStderr: (chunk, child) => {
        seen += chunk;
        if (!sent && /^epoch 1\/100, step \d+\/\d+, loss [\d.]+, val AP50 n\/a, ETA /m.test(seen)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toMatch(/^reading photos through the base: \d+\/\d+, ETA /m);
    expect(first.stderr).toMatch(/stopped at epoch \d+, step \d+; the checkpoint is saved/);
    expect(fs.existsSync(path.join(out, 'checkpoint.json'))).toBe(true);

    const second = await runCli([...args, '--epochs', '2']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/^resuming from /m);
    expect(second.stderr).toMatch(/^validation AP50 by category:\n {2}top {12}\d\.\d{3}/m);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')).id).toBe('cli-model');
  });

  it('refuses a bad COCO file and a missing images folder with a clear message (CLI)', async () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ images: [{ id: 1, file_name: 'a.jpg' }], annotations: [], categories: [] }));
    const r1 = await runCli(['train', '--coco', bad, '--images', dir, '--out', path.join(dir, 'x')]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/bad\.json: not a COCO detection file: images\.0\.width/);
    const r2 = await runCli(['train', '--coco', annotations, '--images', path.join(dir, 'nowhere'), '--out', path.join(dir, 'x')]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/nowhere: no such folder of images/);
    const r3 = await runCli(['train', '--coco', annotations, '--images', dir, '--out', path.join(dir, 'x'), '--input', '300x500']);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/multiples of 32/);
    // Photos that are all unreadable: each named, and no model trained on nothing.
    const broken = tempDir('fd-train-broken-');
    const brokenCoco = await sceneDataset(broken, 4);
    for (const f of fs.readdirSync(broken).filter((f) => f.endsWith('.jpg'))) fs.writeFileSync(path.join(broken, f), 'not a picture');
    const r4 = await runCli(['train', '--coco', brokenCoco, '--images', broken, '--out', path.join(broken, 'model'), '--input', '224x320', '--width', '8', '--no-cache']);
    expect(r4.code).toBe(1);
    expect(r4.stderr.match(/^skipping scene-\d\.jpg: /gm)?.length).toBe(4);
    expect(r4.stderr).toMatch(/none of the 3 training photos could be read \(the lines above say why\)/);
    expect(fs.existsSync(path.join(broken, 'model', 'manifest.json'))).toBe(false);
  });

  it('says what the feature cache will take, and stops with the reason when it cannot be written, rather than skip every photo (CLI, 2 threads)', async (ctx) => {
    const user = await permissionWallUser(ctx, 'a cache that cannot be written');
    const photos = tempDir('fd-train-ro-');
    const coco = await sceneDataset(photos, 4);
    const tmp = tempDir('fd-tmp-');
    const out = tempDir('fd-out-');
    for (const d of [photos, tmp, out]) fs.chmodSync(d, 0o777);
    fs.mkdirSync(path.join(tmp, 'fashion-detect-features'), { mode: 0o555 });
    const args = ['train', '--coco', coco, '--images', photos, '--out', path.join(out, 'model'), '--epochs', '1', '--width', '8', '--batch-size', '2', '--input', '224x320', '--threads', '2'];
    const r = await runCli(args, { env: { TMPDIR: tmp }, ...user });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/caching the base's features of 10 photo variants in .*fashion-detect-features: [\d.]+ MB for all of them \(those cached already take no more\), [\d.]+ GB free there\n/);
    expect(r.stderr).toMatch(/the base's features cannot be cached in .*fashion-detect-features: EACCES: permission denied.*\. Free space there, or keep them in memory instead with --no-cache \(about 2\.4 MB a photo variant at 384x576\)/);
    expect(r.stderr).not.toMatch(/skipping/);
    expect(fs.readdirSync(path.join(tmp, 'fashion-detect-features'))).toEqual([]);
  });

  it('names an option it refuses by its key, and the CLI by its flag', async () => {
    await expect(train({ ...base(path.join(dir, 'refused')), zoomOut: 0.2 })).rejects.toThrow(/^zoomOut must be above 0\.3 and at most 1$/);
    const r = await runCli(['train', '--coco', annotations, '--images', dir, '--out', path.join(dir, 'refused'), '--id', '!!!']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot make a model id from "!!!": pass --id$/m);
    expect(fs.existsSync(path.join(dir, 'refused'))).toBe(false);
  });
});

describe('reading a training file', () => {
  it('takes annotations without area and iscrowd, as many tools write them', async () => {
    const dir = tempDir('fd-train-bare-');
    for (const k of [1, 2]) await (await drawScene(240, 360, k)).jpeg().toFile(path.join(dir, `look${k}.jpg`));
    const file = path.join(dir, 'bare.json');
    fs.writeFileSync(file, JSON.stringify({
      images: [1, 2].map((k) => ({ id: k, file_name: `look${k}.jpg`, width: 240, height: 360 })),
      categories: [{ id: 1, name: 'top' }],
      annotations: [1, 2].map((k) => ({ id: k, image_id: k, category_id: 1, bbox: [10, 20, 100, 120] })),
    }));
    const set = readTrainSet(file, dir);
    expect(set.images.map((i) => i.boxes)).toEqual([1, 2].map(() => [{ bbox: [10, 20, 100, 120], classIndex: 0, categoryId: 1 }]));
  });
});

describe('categories labelled once per photo', () => {
  const photo = (id: number, categoryIds: number[]) => ({ id, file: `${id}.jpg`, fileName: `${id}.jpg`, width: 100, height: 100, boxes: categoryIds.map((categoryId) => ({ bbox: [0, 0, 10, 10] as [number, number, number, number], classIndex: categoryId - 1, categoryId })) });
  const categories = ['top', 'footwear', 'belt'].map((name, i) => ({ id: i + 1, name, supercategory: '' }));

  it('are those no photo has two boxes of, seen in 10 photos at least', () => {
    // top once in each of 12 photos; footwear twice in one; belt once in 9 photos only.
    const images = Array.from({ length: 12 }, (_, i) => photo(i + 1, [1, 2, ...(i < 9 ? [3] : []), ...(i === 5 ? [2] : [])]));
    const set: TrainSet = { categories, images, skipped: [], annotationCount: 0 };
    expect(singleInstanceCategories(set)).toEqual([1]);
    images[11].boxes.push(photo(0, [1]).boxes[0]);
    expect(singleInstanceCategories(set)).toEqual([]);
  });

  if (!hasShared) console.log(`SKIP single-instance categories of the CCP photos: ${sharedSkipReason}`);
  it.skipIf(!hasShared)('of the CCP photos are every category but footwear and bag, as fashion-ccp names them', () => {
    const set = readTrainSet(path.join(sharedDataset, 'train/annotations.json'), path.join(sharedDataset, 'train/images'));
    const once = singleInstanceCategories(set);
    expect(once.map((id) => set.categories.find((c) => c.id === id)!.name).sort()).toEqual(set.categories.map((c) => c.name).filter((n) => n !== 'footwear' && n !== 'bag').sort());
    expect(resolveModel('fashion-ccp').manifest.singleInstanceCategories).toEqual(once);
  });
});

describe('fashion-ccp, the default model', () => {
  it('is the default, and refuses to run on a base other than the one it was trained on', async () => {
    expect(defaultModelId()).toBe('fashion-ccp');
    const model = resolveModel('fashion-ccp');
    const swapped = { ...model, manifest: { ...model.manifest, base: { ...model.manifest.base!, weights: model.manifest.base!.weights.map((w) => ({ ...w, sha256: '0'.repeat(64) })) } } };
    await expect(Detector.load(swapped)).rejects.toThrow(/was trained on coco-nanodet's nanodet\.json with sha256 000000000000\.\.\., but the installed one differs/);
  });

  if (!hasShared) console.log(`SKIP fashion-ccp on held-out CCP photos: ${sharedSkipReason}`);
  it.skipIf(!hasShared)('finds the garments and shoes of held-out CCP photos (its validation split) at the default minimum score', async () => {
    const set = readTrainSet(path.join(sharedDataset, 'train/annotations.json'), path.join(sharedDataset, 'train/images'));
    const { val } = splitTrainVal(set.images, 0.15, 0);
    const detector = await Detector.load(resolveModel('fashion-ccp'));
    const iou = (a: number[], b: number[]) => {
      const w = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
      const h = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
      return (w * h) / (a[2] * a[3] + b[2] * b[3] - w * h);
    };
    let found = 0;
    let total = 0;
    try {
      for (const image of val.slice(0, 10)) {
        const r = await detector.detectFile(image.file);
        expect([r.width, r.height]).toEqual([image.width, image.height]);
        for (const box of image.boxes) {
          const name = set.categories[box.classIndex].name;
          if (!['top', 'outerwear', 'pants', 'footwear'].includes(name)) continue;
          total++;
          if (r.detections.some((d) => d.category === name && iou(d.bbox, box.bbox) >= 0.5)) found++;
        }
      }
    } finally {
      detector.dispose();
    }
    // fashion-ccp 1.1.0 at its default 0.5: 25 of 37, in 39 boxes on the 10 photos (at 0.35: 28, in 79 boxes);
    // well above what a wrong decoding or mapping could reach.
    expect(total).toBeGreaterThan(30);
    expect(found / total).toBeGreaterThan(0.6);
  });
});
