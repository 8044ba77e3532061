import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { tf } from '../base/backend.js';
import { INFERENCE_OPS, type LayerOps } from './layer-ops.js';
import { NANODET_FPN } from './fpn-base.js';
import { BODY_FEATURES, BODY_LENGTH, bodyCells } from './pose.js';
import { MAX_TAIL_UNITS, TAIL_TENSORS, tailShape, tailTensorNames, tunedPyramid, type TailParams, type TailTensorName } from './tail.js';

/**
 * The trained part of an 'fpn-head' model: one head shared by all pyramid levels, two 3x3
 * convolutions and a 1x1 output of class logits and Generalised Focal Loss distance bins
 * (NanoDet's output layout, so the NanoDet decoder reads it). The base's features are standardised
 * per channel first, with statistics measured on the training photos.
 *
 * With `context`, the first convolution also gets a per-photo bias from the mean of the coarsest
 * level: what the whole outfit looks like, which a 3x3 window on one level cannot see (a skirt and
 * the lower half of a dress look alike up close).
 *
 * With `pose`, the first convolution also gets a per-cell bias from where the cell is relative to the
 * wearer's body (pose.ts): the photos' body summaries are an input of the head beside the base's outputs.
 *
 * With `tailUnits` above 0, the model also carries its own weights for the last units of the base's
 * backbone and its lateral into the pyramid (tail.ts), fine-tuned with the head; the base then gives
 * the parts before them, and the pyramid is built here.
 */
export const headSpecSchema = z.object({
  kind: z.literal('fpn-head'),
  version: z.literal(1),
  inChannels: z.number().int().positive(),
  width: z.number().int().positive(),
  numClasses: z.number().int().positive(),
  bins: z.number().int().min(2),
  context: z.boolean().default(false),
  pose: z.boolean().default(false),
  tailUnits: z.number().int().min(0).max(MAX_TAIL_UNITS).default(0),
  weightsFile: z.string().min(1),
  tensors: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().positive()) })),
});
export type HeadSpec = z.infer<typeof headSpecSchema>;

const OWN_HEAD_TENSORS = ['featureMean', 'featureStd', 'conv1', 'bias1', 'context', 'pose', 'conv2', 'bias2', 'out', 'outBias'] as const;
export type HeadTensorName = (typeof OWN_HEAD_TENSORS)[number] | TailTensorName;
type OptionalTensorName = 'context' | 'pose';
export type HeadParams = Partial<Record<OptionalTensorName | TailTensorName, tf.Tensor>> & Record<Exclude<(typeof OWN_HEAD_TENSORS)[number], OptionalTensorName>, tf.Tensor>;

export interface HeadShape {
  inChannels: number;
  width: number;
  numClasses: number;
  bins: number;
  context: boolean;
  /** Takes the wearer's body as an input (pose.ts); absent for no. */
  pose?: boolean;
  /** Units of the base's last stage carried and fine-tuned (tail.ts); 0 for none. */
  tailUnits: number;
}

/** The head's tensors, in the order they are stored. */
export function headTensorNames(s: Pick<HeadShape, 'context' | 'pose' | 'tailUnits'>): HeadTensorName[] {
  return [...OWN_HEAD_TENSORS.filter((n) => (n !== 'context' || s.context) && (n !== 'pose' || s.pose)), ...tailTensorNames(s.tailUnits)];
}

/** The tail's tensors of a head that has one. */
export function tailOf(p: HeadParams): TailParams | undefined {
  return p.lateral ? Object.fromEntries(TAIL_TENSORS.filter((n) => p[n]).map((n) => [n, p[n]!])) : undefined;
}

export function headTensorShapes(s: HeadShape): Partial<Record<HeadTensorName, number[]>> {
  const k = s.numClasses + 4 * s.bins;
  return {
    featureMean: [s.inChannels],
    featureStd: [s.inChannels],
    conv1: [3, 3, s.inChannels, s.width],
    bias1: [s.width],
    ...(s.context ? { context: [s.inChannels, s.width] } : {}),
    ...(s.pose ? { pose: [BODY_FEATURES, s.width] } : {}),
    conv2: [3, 3, s.width, s.width],
    bias2: [s.width],
    out: [s.width, k],
    outBias: [k],
    ...Object.fromEntries(tailTensorNames(s.tailUnits).map((n) => [n, tailShape(n)])),
  };
}

/**
 * The per-photo bias of the first convolution, [B, width]: the coarsest level's standardised
 * features averaged over the photo, through `context`. Undefined for a head without context.
 */
export function contextBias(coarsest: tf.Tensor4D, p: HeadParams, ops: LayerOps, inputGrad = false): tf.Tensor2D | undefined {
  if (!p.context) return undefined;
  const pooled = tf.mean(coarsest, [1, 2]) as tf.Tensor2D;
  return ops.linear(pooled, p.context as tf.Tensor2D, inputGrad);
}

/**
 * The per-cell bias of the first convolution on a level of `stride`, [B, rows, cols, width]: each
 * cell's place relative to the body of its photo (`bodies`: B summaries, pose.ts) through `pose`.
 * Undefined for a head without pose.
 */
export function bodyBias(bodies: Float32Array | undefined, rows: number, cols: number, stride: number, p: HeadParams, ops: LayerOps): tf.Tensor4D | undefined {
  if (!p.pose) return undefined;
  if (!bodies) throw new Error('this model takes the wearer\'s body as an input, and none was given');
  const cells = tf.tensor2d(bodyCells(bodies, rows, cols, stride), [(bodies.length / BODY_LENGTH) * rows * cols, BODY_FEATURES]);
  return ops.linear(cells, p.pose as tf.Tensor2D, false).reshape([-1, rows, cols, p.pose.shape[1]!]) as tf.Tensor4D;
}

/**
 * One pyramid level, NHWC features already standardised, to [B, H * W, numClasses + 4 * bins] raw
 * outputs, the layers run with `ops` (layer-ops.ts). `inputGrad`: the features are trained too (a
 * tuned tail), so their gradient is needed.
 */
export function headLevel(x: tf.Tensor4D, p: HeadParams, ops: LayerOps, context?: tf.Tensor2D, inputGrad = false, body?: tf.Tensor4D): tf.Tensor3D {
  const [b, h, w] = x.shape;
  const bias1 = context ? tf.add(context.reshape([b, 1, 1, -1]), p.bias1) : p.bias1;
  const conv1 = tf.add(ops.conv3x3(x, p.conv1 as tf.Tensor4D, inputGrad), bias1);
  const h1 = tf.relu(body ? tf.add(conv1, body) : conv1) as tf.Tensor4D;
  const h2 = tf.relu(tf.add(ops.conv3x3(h1, p.conv2 as tf.Tensor4D, true), p.bias2)) as tf.Tensor4D;
  const width = h2.shape[3];
  const flat = h2.reshape([b * h * w, width]) as tf.Tensor2D;
  const out = ops.linear(flat, p.out as tf.Tensor2D, true);
  return tf.add(out, p.outBias).reshape([b, h * w, -1]) as tf.Tensor3D;
}

/**
 * The standardised NHWC pyramid from the base's outputs (NHWC): the pyramid itself, or for a head
 * with a tail the parts before it (tail.ts).
 */
export function standardisedPyramid(baseOutputs: readonly tf.Tensor4D[], p: HeadParams, ops: LayerOps): tf.Tensor4D[] {
  const tail = tailOf(p);
  const pyramid = tail ? tunedPyramid(baseOutputs, tail, ops) : baseOutputs;
  return pyramid.map((x) => tf.div(tf.sub(x, p.featureMean), p.featureStd) as tf.Tensor4D);
}

/**
 * The head's outputs from the base's outputs (NHWC, batch B): per level, class scores
 * [B, cells, numClasses] (logits, or probabilities with `sigmoid`) and distance logits
 * [B, cells, 4 * bins], in level order. The Detector's network and training's validation both run this.
 */
export function headOutputs(baseOutputs: readonly tf.Tensor4D[], p: HeadParams, numClasses: number, sigmoid: boolean, bodies?: Float32Array): tf.Tensor3D[] {
  return tf.tidy(() => {
    const standardised = standardisedPyramid(baseOutputs, p, INFERENCE_OPS);
    const context = contextBias(standardised[standardised.length - 1], p, INFERENCE_OPS);
    return standardised.flatMap((x, level) => {
      const body = bodyBias(bodies, x.shape[1], x.shape[2], NANODET_FPN.strides[level], p, INFERENCE_OPS);
      const raw = headLevel(x, p, INFERENCE_OPS, context, false, body);
      const k = raw.shape[2];
      const logits = tf.slice(raw, [0, 0, 0], [-1, -1, numClasses]);
      const distances = tf.slice(raw, [0, 0, numClasses], [-1, -1, k - numClasses]);
      return [sigmoid ? tf.sigmoid(logits) : logits, distances];
    });
  });
}

/**
 * The head's outputs, scores as probabilities, from the base graph's NCHW outputs (batch 1) and, for a
 * head with pose, the photo's body: what the Detector runs.
 */
export function headInference(baseOutputs: tf.Tensor[], p: HeadParams, numClasses: number, body?: Float32Array): tf.Tensor[] {
  return tf.tidy(() => headOutputs(baseOutputs.map((nchw) => tf.transpose(nchw, [0, 2, 3, 1]) as tf.Tensor4D), p, numClasses, true, body));
}

export function loadHead(dir: string, specFile: string): { spec: HeadSpec; params: HeadParams } {
  const spec = headSpecSchema.parse(JSON.parse(fs.readFileSync(path.join(dir, specFile), 'utf8')));
  const bin = fs.readFileSync(path.join(dir, spec.weightsFile));
  const expected = headTensorShapes(spec);
  let offset = 0;
  const params = {} as HeadParams;
  for (const name of headTensorNames(spec)) {
    const t = spec.tensors.find((e) => e.name === name);
    if (!t || t.shape.join() !== expected[name]!.join()) throw new Error(`${specFile}: tensor ${name} missing or of the wrong shape`);
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (offset + size * 4 > bin.length) throw new Error(`${spec.weightsFile}: too short for the tensors in ${specFile}`);
    const data = new Float32Array(size);
    Buffer.from(data.buffer).set(bin.subarray(offset, offset + size * 4));
    params[name] = tf.tensor(data, t.shape);
    offset += size * 4;
  }
  if (offset !== bin.length) throw new Error(`${spec.weightsFile}: ${bin.length - offset} bytes more than ${specFile} describes`);
  return { spec, params };
}
