import { tf } from '../base/backend.js';
import { featureData, type FeatureSample } from './features.js';
import { bodyBias, contextBias, headLevel, standardisedPyramid, type HeadParams, type HeadTensorName } from '../models/fpn-head.js';
import { presenceLoss, presentTensor, type TrainedTensorName } from './presence.js';
import { batchTargets, disposeTargets, gflLoss } from './loss.js';
import { TRAINING_OPS } from './ops.js';
import type { Level, Targets } from './targets.js';

/**
 * One training step's gradient for a part of a batch. The same code runs on the training thread
 * and in the helper threads (train-worker), each on its own part; the parts' gradients are added up.
 */

/** The shape of one of the base's outputs as stored in a sample (NHWC). */
export interface BaseOutputShape {
  rows: number;
  cols: number;
  channels: number;
}

/**
 * The base outputs of a batch of samples, one NHWC array per output ([n, rows, cols, channels]).
 * Samples whose pyramid stays in the cache are read here, one batch at a time.
 */
export function batchBaseOutputs(samples: readonly FeatureSample[], shapes: readonly BaseOutputShape[]): Float32Array[] {
  const sizes = shapes.map((s) => s.rows * s.cols * s.channels);
  const total = sizes.reduce((a, b) => a + b, 0);
  const outputs = sizes.map((size) => new Float32Array(samples.length * size));
  samples.forEach((sample, bi) => {
    const data = featureData(sample);
    // A damaged cache file would otherwise be cut up silently.
    if (data.length !== total) {
      const where = sample.features instanceof Float32Array ? "a photo's features" : `the cache file ${sample.features.cacheFile}`;
      throw new Error(`${where} hold ${data.length} values where the base gives ${total}: delete it and train again (the training resumes)`);
    }
    let offset = 0;
    sizes.forEach((size, i) => {
      outputs[i].set(data.subarray(offset, offset + size), bi * size);
      offset += size;
    });
  });
  return outputs;
}

/** The body summaries (pose.ts) of a batch of samples, one after another; undefined when they have none. */
export function batchBodies(samples: readonly FeatureSample[]): Float32Array | undefined {
  if (!samples[0]?.body) return undefined;
  const out = new Float32Array(samples.reduce((n, s) => n + s.body!.length, 0));
  samples.reduce((o, s) => (out.set(s.body!, o), o + s.body!.length), 0);
  return out;
}

/** The base outputs of a batch of samples as NHWC tensors. */
export function batchTensors(samples: readonly FeatureSample[], shapes: readonly BaseOutputShape[]): tf.Tensor4D[] {
  return batchBaseOutputs(samples, shapes).map((data, i) => tf.tensor4d(data, [samples.length, shapes[i].rows, shapes[i].cols, shapes[i].channels]));
}

export interface StepPart {
  /** The part's base outputs, from `batchBaseOutputs`. */
  inputs: Float32Array[];
  /** The part's body summaries, from `batchBodies`, for a head that takes the wearer's body. */
  bodies?: Float32Array;
  /** The pyramid's per-channel standardisation (fixed when the head is made). */
  featureMean: Float32Array;
  featureStd: Float32Array;
  targets: Targets[];
  /** Positive cells in the whole batch, so the parts' losses add up to the batch's. */
  norm: number;
  /** Photos in the whole batch, for the same reason (the presence loss is averaged over them). */
  photos: number;
}

export interface StepGeometry {
  levels: Level[];
  /** The base's outputs: the pyramid's levels, or with a tail the parts before it. */
  inputs: BaseOutputShape[];
  /** The base's last units are trained too (tail.ts). */
  tail: boolean;
  cells: number;
  numClasses: number;
  bins: number;
  /** Weight of the photo-level presence loss (presence.ts); 0 for none. */
  presenceWeight: number;
}

/** Loss and gradients (by tensor name) of `part`, with the head's trainable tensors as `variables`. */
export function partGradients(
  variables: ReadonlyMap<TrainedTensorName, tf.Variable>,
  part: StepPart,
  g: StepGeometry,
): { loss: number; grads: Map<TrainedTensorName, Float32Array> } {
  const n = part.targets.length;
  const inputs = g.inputs.map((s, i) => tf.tensor4d(part.inputs[i], [n, s.rows, s.cols, s.channels]));
  const params = { ...Object.fromEntries(variables), featureMean: tf.tensor1d(part.featureMean), featureStd: tf.tensor1d(part.featureStd) } as unknown as HeadParams;
  const targets = batchTargets(part.targets, g.cells, g.numClasses, g.bins);
  const presence = g.presenceWeight > 0 ? { presence: variables.get('presence')!, presenceBias: variables.get('presenceBias')! } : undefined;
  const present = presence ? presentTensor(part.targets.map((t) => t.present), g.numClasses) : undefined;
  const names = [...variables.keys()];
  const { value, grads } = tf.variableGrads(() => {
    const feats = standardisedPyramid(inputs, params, TRAINING_OPS);
    const context = contextBias(feats[feats.length - 1], params, TRAINING_OPS, g.tail);
    const levels = feats.map((f, i) => {
      const body = bodyBias(part.bodies, f.shape[1], f.shape[2], g.levels[i].stride, params, TRAINING_OPS);
      return headLevel(f, params, TRAINING_OPS, context, g.tail, body);
    });
    const raw = tf.concat(levels, 1) as tf.Tensor3D;
    const detection = gflLoss(raw, targets, g.numClasses, g.bins, part.norm).total;
    if (!presence) return detection;
    return tf.add(detection, presenceLoss(feats[feats.length - 1], presence, present!, g.presenceWeight, part.photos, g.tail)) as tf.Scalar;
  }, names.map((name) => variables.get(name)!));
  const loss = value.dataSync()[0];
  const out = new Map<TrainedTensorName, Float32Array>();
  for (const name of names) out.set(name, grads[variables.get(name)!.name].dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads), ...inputs, params.featureMean, params.featureStd, ...(present ? [present] : [])]);
  disposeTargets(targets);
  return { loss, grads: out };
}
