import { tf } from '../backend.js';
import type { FeatureSample } from './features.js';
import { contextBias, headLevel, type HeadParams, type HeadTensorName } from './head.js';
import { batchTargets, disposeTargets, gflLoss } from './loss.js';
import type { Level, Targets } from './targets.js';

/**
 * One training step's gradient for a part of a batch. The same code runs on the training thread
 * and in the helper threads (train-worker), each on its own part; the parts' gradients are added up.
 */

/** Standardised NHWC level data of a batch of samples, one array per level ([n, rows, cols, channels]). */
export function standardisedLevels(samples: readonly FeatureSample[], levels: readonly Level[], channels: number, mean: Float32Array, std: Float32Array): Float32Array[] {
  const inv = std.map((s) => 1 / s);
  let offset = 0;
  return levels.map((l) => {
    const size = l.rows * l.cols * channels;
    const data = new Float32Array(samples.length * size);
    samples.forEach((s, bi) => {
      const src = s.features;
      const dst = bi * size;
      for (let i = 0; i < size; i += channels) {
        for (let c = 0; c < channels; c++) data[dst + i + c] = (src[offset + i + c] - mean[c]) * inv[c];
      }
    });
    offset += size;
    return data;
  });
}

export interface StepPart {
  /** Standardised level data from `standardisedLevels`. */
  levels: Float32Array[];
  targets: Targets[];
  /** Positive cells in the whole batch, so the parts' losses add up to the batch's. */
  norm: number;
}

export interface StepGeometry {
  levels: Level[];
  cells: number;
  channels: number;
  numClasses: number;
  bins: number;
}

/** Loss and gradients (by tensor name) of `part`, with the head's trainable tensors as `variables`. */
export function partGradients(
  variables: ReadonlyMap<HeadTensorName, tf.Variable>,
  part: StepPart,
  g: StepGeometry,
): { loss: number; grads: Map<HeadTensorName, Float32Array> } {
  const n = part.targets.length;
  const params = Object.fromEntries(variables) as unknown as HeadParams;
  const feats = g.levels.map((l, i) => tf.tensor4d(part.levels[i], [n, l.rows, l.cols, g.channels]));
  const targets = batchTargets(part.targets, g.cells, g.numClasses, g.bins);
  const names = [...variables.keys()];
  const { value, grads } = tf.variableGrads(() => {
    const context = contextBias(feats[feats.length - 1], params, true);
    const raw = tf.concat(feats.map((f) => headLevel(f, params, true, context)), 1) as tf.Tensor3D;
    return gflLoss(raw, targets, g.numClasses, g.bins, part.norm).total;
  }, names.map((name) => variables.get(name)!));
  const loss = value.dataSync()[0];
  const out = new Map<HeadTensorName, Float32Array>();
  for (const name of names) out.set(name, grads[variables.get(name)!.name].dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads), ...feats]);
  disposeTargets(targets);
  return { loss, grads: out };
}
