import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../base/backend.js';
import { headTensorNames, headTensorShapes, type HeadParams, type HeadShape, type HeadSpec } from '../models/fpn-head.js';
import { INFERENCE_OPS } from '../models/layer-ops.js';
import { tunedPyramid, type TailParams } from '../models/tail.js';
import { featureData, featureStatistics, type FeatureSample } from './features.js';
import { pretrainedTail } from './pretrained-tail.js';
import { batchTensors, type BaseOutputShape } from './step.js';

// A head's weights as training makes them (models/fpn-head.ts runs and loads them).

/**
 * Fresh weights: He-normal convolutions, class bias for a 1% prior (focal-loss practice), zero
 * distances; the tail, when there is one, starts as the base's own (`tail`).
 */
export function initHead(s: HeadShape, featureMean: Float32Array, featureStd: Float32Array, seed: number, tail?: TailParams): HeadParams {
  if ((s.tailUnits > 0) !== (tail !== undefined)) throw new Error('a head with a tail starts from the base graph\'s tail weights');
  const shapes = headTensorShapes(s);
  const he = (shape: number[], fanIn: number, salt: number) => tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed + salt);
  const outBias = new Float32Array(s.numClasses + 4 * s.bins);
  outBias.fill(-Math.log((1 - 0.01) / 0.01), 0, s.numClasses);
  return {
    featureMean: tf.tensor1d(featureMean),
    featureStd: tf.tensor1d(featureStd),
    conv1: he(shapes.conv1!, 9 * s.inChannels, 1),
    bias1: tf.zeros(shapes.bias1!),
    // Small at first: the photo-wide bias joins in as the local features are learnt.
    ...(s.context ? { context: tf.randomNormal(shapes.context!, 0, 0.1 * Math.sqrt(2 / s.inChannels), 'float32', seed + 4) } : {}),
    // Small at first too: the body's place joins in beside what the features show.
    ...(s.pose ? { pose: tf.randomNormal(shapes.pose!, 0, 0.1 * Math.sqrt(2 / shapes.pose![0]), 'float32', seed + 5) } : {}),
    conv2: he(shapes.conv2!, 9 * s.width, 2),
    bias2: tf.zeros(shapes.bias2!),
    out: tf.randomNormal(shapes.out!, 0, 0.01, 'float32', seed + 3),
    outBias: tf.tensor1d(outBias),
    ...tail,
  };
}

/** Writes the head as `<name>.json` (spec) and `<name>.bin` (float32, tensors in spec order); returns their sha256. */
export function saveHead(dir: string, name: string, s: HeadShape, p: HeadParams): { file: string; sha256: string }[] {
  const shapes = headTensorShapes(s);
  const names = headTensorNames(s);
  const spec: HeadSpec = {
    kind: 'fpn-head',
    version: 1,
    ...s,
    pose: s.pose ?? false,
    weightsFile: `${name}.bin`,
    tensors: names.map((n) => ({ name: n, shape: shapes[n]! })),
  };
  const parts = names.map((n) => Buffer.from((p[n]!.dataSync() as Float32Array).slice().buffer));
  const bin = Buffer.concat(parts);
  const json = Buffer.from(JSON.stringify(spec, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, spec.weightsFile), bin);
  fs.writeFileSync(path.join(dir, `${name}.json`), json);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  return [
    { file: `${name}.json`, sha256: sha(json) },
    { file: spec.weightsFile, sha256: sha(bin) },
  ];
}

/** A sample's pyramid (NHWC data, levels in order) through the given tail. */
function pyramidData(sample: FeatureSample, shapes: readonly BaseOutputShape[], tail: TailParams): Float32Array {
  const levels = tf.tidy(() => tunedPyramid(batchTensors([sample], shapes), tail, INFERENCE_OPS));
  const data = levels.map((l) => l.dataSync() as Float32Array);
  tf.dispose(levels);
  const out = new Float32Array(data.reduce((n, d) => n + d.length, 0));
  data.reduce((o, d) => (out.set(d, o), o + d.length), 0);
  return out;
}

/**
 * The head a training starts from: standardisation measured on up to 200 photos as the base shows them
 * (through the base's own tail, when the tail is tuned), fresh weights, and the base's tail weights.
 */
export function startingHead(s: HeadShape, plainSamples: readonly FeatureSample[], inputShapes: readonly BaseOutputShape[], graph: tf.GraphModel, seed: number): HeadParams {
  const tail = s.tailUnits > 0 ? pretrainedTail(graph, s.tailUnits) : undefined;
  const some = plainSamples.slice(0, 200);
  // One pyramid at a time: a cached sample's is read from its file when its turn comes.
  const pyramids = (function* () {
    for (const x of some) yield tail ? pyramidData(x, inputShapes, tail) : featureData(x);
  })();
  const stats = featureStatistics(pyramids, s.inChannels);
  return initHead(s, stats.mean, stats.std, seed, tail);
}
