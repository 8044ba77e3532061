import { tf } from '../base/backend.js';
import type { HeadTensorName } from '../models/fpn-head.js';
import { classesIn, type TrainImage } from './dataset.js';
import { linear } from './ops.js';

/**
 * A photo-level multi-label loss that trains the shared layers: the coarsest level's standardised
 * features averaged over the photo (what the head's context sees) go through a linear layer to one
 * logit per category, against which categories the photo holds (its boxes' categories, or for a
 * tagged photo its tags). With a tuned tail its gradient reaches the backbone's last stage, so tags
 * without boxes teach the layers that tell a skirt from the lower half of a dress. Training only:
 * the model does not carry these tensors.
 */
export const PRESENCE_TENSORS = ['presence', 'presenceBias'] as const;
export type PresenceTensorName = (typeof PRESENCE_TENSORS)[number];

/** The tensors a training changes: the head's (and tail's) and, with the presence loss, its layer. */
export type TrainedTensorName = HeadTensorName | PresenceTensorName;

export function presenceShapes(inChannels: number, numClasses: number): Record<PresenceTensorName, number[]> {
  return { presence: [inChannels, numClasses], presenceBias: [numClasses] };
}

export function initPresence(inChannels: number, numClasses: number, seed: number): Record<PresenceTensorName, tf.Tensor> {
  return {
    presence: tf.randomNormal([inChannels, numClasses], 0, Math.sqrt(1 / inChannels), 'float32', seed + 11),
    presenceBias: tf.zeros([numClasses]),
  };
}

/** Which categories each photo holds, [n, numClasses], from its targets' `present`. */
export function presentTensor(present: readonly (Float32Array | undefined)[], numClasses: number): tf.Tensor2D {
  const data = new Float32Array(present.length * numClasses);
  present.forEach((p, i) => p && data.set(p, i * numClasses));
  return tf.tensor2d(data, [present.length, numClasses]);
}

/**
 * The loss of a part of a batch: binary cross-entropy of the logits against `present`, summed and
 * divided by the whole batch's photos x categories (so the parts of a batch split over threads add up),
 * times `weight`. `inputGrad`: the features are trained too (a tuned tail).
 */
export function presenceLoss(
  coarsest: tf.Tensor4D,
  weights: { presence: tf.Tensor; presenceBias: tf.Tensor },
  present: tf.Tensor2D,
  weight: number,
  batchPhotos: number,
  inputGrad: boolean,
): tf.Scalar {
  const pooled = tf.mean(coarsest, [1, 2]) as tf.Tensor2D;
  const logits = tf.add(linear(pooled, weights.presence as tf.Tensor2D, inputGrad), weights.presenceBias);
  // softplus(z) - z * y: the cross-entropy of sigmoid(z) against y, written with kernels wasm has.
  const bce = tf.sub(tf.softplus(logits), tf.mul(logits, present));
  return tf.mul(tf.sum(bce), weight / (batchPhotos * present.shape[1])) as tf.Scalar;
}

/** A photo's categories (classesIn) as the presence loss takes them: 1 for each it holds. */
export function presentClasses(photo: Pick<TrainImage, 'boxes' | 'negativeWeights'>, numClasses: number): Float32Array {
  const present = new Float32Array(numClasses);
  for (const c of classesIn(photo)) present[c] = 1;
  return present;
}
