import { tf } from '../base/backend.js';
import { stopGradient } from './ops.js';
import type { Targets } from './targets.js';

/**
 * Generalised Focal Loss (Li et al., 2020), as NanoDet trains: quality focal loss on the class
 * scores (the target of a positive cell is the IoU of its predicted box, so scores rank boxes by
 * quality), GIoU loss and distribution focal loss on the distance bins.
 */
export const LOSS_WEIGHTS = { quality: 1, giou: 2, distribution: 0.25 };

/** Dense per-batch targets, built once on the CPU from the positive cells. */
export interface BatchTargets {
  /** [B, P, numClasses], 1 at a positive cell's class. */
  classMask: tf.Tensor3D;
  /** [B, P, 1], 1 at positive cells. */
  positive: tf.Tensor3D;
  /** [B, 1, numClasses]: how much a photo's non-positive cells count as negatives of each class (Targets.negativeWeights). */
  negativeWeights: tf.Tensor3D;
  /** [B, P, 4] target distances in strides (0 elsewhere). */
  distances: tf.Tensor3D;
  /** [B, P, 4, bins]: the two-bin split of each target distance, for the distribution loss. */
  binWeights: tf.Tensor4D;
  positives: number;
}

export function batchTargets(batch: readonly Targets[], cells: number, numClasses: number, bins: number): BatchTargets {
  const b = batch.length;
  const classMask = new Float32Array(b * cells * numClasses);
  const positive = new Float32Array(b * cells);
  const distances = new Float32Array(b * cells * 4);
  const binWeights = new Float32Array(b * cells * 4 * bins);
  const negativeWeights = new Float32Array(b * numClasses).fill(1);
  let positives = 0;
  batch.forEach((t, bi) => {
    if (t.negativeWeights) negativeWeights.set(t.negativeWeights, bi * numClasses);
    for (let k = 0; k < t.cells.length; k++) {
      const cell = bi * cells + t.cells[k];
      classMask[cell * numClasses + t.classes[k]] = 1;
      positive[cell] = 1;
      for (let j = 0; j < 4; j++) {
        const d = t.distances[k * 4 + j];
        distances[cell * 4 + j] = d;
        const left = Math.floor(d);
        const o = (cell * 4 + j) * bins;
        binWeights[o + left] = left + 1 - d;
        if (left + 1 < bins) binWeights[o + left + 1] = d - left;
      }
      positives++;
    }
  });
  return {
    classMask: tf.tensor3d(classMask, [b, cells, numClasses]),
    positive: tf.tensor3d(positive, [b, cells, 1]),
    distances: tf.tensor3d(distances, [b, cells, 4]),
    binWeights: tf.tensor4d(binWeights, [b, cells, 4, bins]),
    negativeWeights: tf.tensor3d(negativeWeights, [b, 1, numClasses]),
    positives,
  };
}

export function disposeTargets(t: BatchTargets): void {
  tf.dispose([t.classMask, t.positive, t.distances, t.binWeights, t.negativeWeights]);
}

/** Expected distance per side from the bin logits [..., 4, bins]. */
function expectedDistance(binLogits: tf.Tensor, bins: number): tf.Tensor {
  return tf.sum(tf.mul(tf.softmax(binLogits), tf.range(0, bins)), -1);
}

/** IoU and GIoU of two boxes given as [l, t, r, b] distances from the same point. */
function giou(pred: tf.Tensor, target: tf.Tensor): { iou: tf.Tensor; giou: tf.Tensor } {
  const [pl, pt, pr, pb] = tf.split(pred, 4, -1);
  const [tl, tt, tr, tb] = tf.split(target, 4, -1);
  const eps = 1e-6;
  const areaP = tf.mul(tf.add(pl, pr), tf.add(pt, pb));
  const areaT = tf.mul(tf.add(tl, tr), tf.add(tt, tb));
  const inter = tf.mul(tf.add(tf.minimum(pl, tl), tf.minimum(pr, tr)), tf.add(tf.minimum(pt, tt), tf.minimum(pb, tb)));
  const union = tf.sub(tf.add(areaP, areaT), inter);
  const iou = tf.div(inter, tf.add(union, eps));
  const enclose = tf.mul(tf.add(tf.maximum(pl, tl), tf.maximum(pr, tr)), tf.add(tf.maximum(pt, tt), tf.maximum(pb, tb)));
  return { iou, giou: tf.sub(iou, tf.div(tf.sub(enclose, union), tf.add(enclose, eps))) };
}

export interface LossParts {
  total: tf.Scalar;
  quality: tf.Scalar;
  giou: tf.Scalar;
  distribution: tf.Scalar;
}

/**
 * raw: [B, P, numClasses + 4 * bins] head outputs (class logits, then distance bins). `norm` is the
 * number of positive cells the loss is averaged over: by default this batch's; a part of a batch
 * split over threads passes the whole batch's, so the parts' losses and gradients add up exactly.
 */
export function gflLoss(raw: tf.Tensor3D, t: BatchTargets, numClasses: number, bins: number, norm = Math.max(1, t.positives)): LossParts {
  const [b, p] = raw.shape;
  const logits = tf.slice(raw, [0, 0, 0], [b, p, numClasses]);
  const binLogits = tf.reshape(tf.slice(raw, [0, 0, numClasses], [b, p, 4 * bins]), [b, p, 4, bins]);

  const predicted = expectedDistance(binLogits, bins);
  const boxes = giou(predicted, t.distances);
  const giouLoss = tf.div(tf.sum(tf.mul(tf.sub(1, boxes.giou), t.positive)), norm) as tf.Scalar;

  const quality = tf.mul(t.classMask, stopGradient(tf.relu(boxes.iou)));
  const prob = tf.sigmoid(logits);
  const eps = 1e-6;
  const bce = tf.neg(tf.add(tf.mul(quality, tf.log(tf.add(prob, eps))), tf.mul(tf.sub(1, quality), tf.log(tf.add(tf.sub(1, prob), eps)))));
  // A positive cell always counts; elsewhere a class counts as much as the photo says it is absent.
  const weight = tf.maximum(t.classMask, t.negativeWeights);
  const qualityLoss = tf.div(tf.sum(tf.mul(tf.mul(bce, tf.square(tf.sub(quality, prob))), weight)), norm) as tf.Scalar;

  const distributionLoss = tf.div(tf.neg(tf.sum(tf.mul(t.binWeights, tf.logSoftmax(binLogits)))), 4 * norm) as tf.Scalar;

  const total = tf.addN([
    tf.mul(qualityLoss, LOSS_WEIGHTS.quality),
    tf.mul(giouLoss, LOSS_WEIGHTS.giou),
    tf.mul(distributionLoss, LOSS_WEIGHTS.distribution),
  ]) as tf.Scalar;
  return { total, quality: qualityLoss, giou: giouLoss, distribution: distributionLoss };
}
