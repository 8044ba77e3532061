import { tf } from '../base/backend.js';
import type { LayerOps } from './layer-ops.js';

/**
 * The last stage of NanoDet-m's backbone (stride 32) and the pyramid built on it, rebuilt from the
 * graph's weights in plain tfjs ops so that training can fine-tune it (`tailUnits`). The COCO features
 * alone do not tell a skirt from the lower half of a dress; this stage sees the whole outfit, and its
 * change reaches every level through the pyramid's top-down path.
 *
 * After its downsampling convolution (output `first`), the stage is three units of two 3x3
 * convolutions (the second feeding on the first, both outputs concatenated), a 3x3 convolution that
 * merges, concatenated with `first`, then the 1x1 lateral into the pyramid. A tail of N units tunes
 * the last N units, the merge and the lateral; the graph gives the rest.
 *
 * With the weights as exported, `tunedPyramid` gives the graph's own pyramid outputs.
 */
const GRAPH = {
  lateral8: 'PartitionedCall/transpose_79',
  lateral16: 'PartitionedCall/transpose_82',
  first: 'PartitionedCall/onnx_tf_prefix_LeakyRelu_44',
  /** The input of each unit. */
  unitInputs: ['PartitionedCall/onnx_tf_prefix_LeakyRelu_44', 'PartitionedCall/onnx_tf_prefix_Concat_49', 'PartitionedCall/onnx_tf_prefix_Concat_54'],
  alpha: 0.1,
};

/** Each tail tensor's shape (the 1x1 lateral as a matrix), in the order they are stored. */
const TAIL_SHAPES = {
  tail1a: [3, 3, 256, 128],
  tail1aBias: [128],
  tail1b: [3, 3, 128, 128],
  tail1bBias: [128],
  tail2a: [3, 3, 256, 128],
  tail2aBias: [128],
  tail2b: [3, 3, 128, 128],
  tail2bBias: [128],
  tail3a: [3, 3, 256, 128],
  tail3aBias: [128],
  tail3b: [3, 3, 128, 128],
  tail3bBias: [128],
  tailMerge: [3, 3, 256, 256],
  tailMergeBias: [256],
  lateral: [512, 128],
  lateralBias: [128],
} as const satisfies Record<string, readonly number[]>;

export type TailTensorName = keyof typeof TAIL_SHAPES;
/** Every tail tensor, in the order they are stored. */
export const TAIL_TENSORS = Object.keys(TAIL_SHAPES) as TailTensorName[];
export type TailParams = Partial<Record<TailTensorName, tf.Tensor>>;
export const MAX_TAIL_UNITS = 3;

/** The tensors of a tail of `units` units (0: none), in the order they are stored. */
export function tailTensorNames(units: number): TailTensorName[] {
  return units === 0 ? [] : TAIL_TENSORS.filter((n) => !/^tail\d/.test(n) || Number(n[4]) > MAX_TAIL_UNITS - units);
}

export function tailShape(name: TailTensorName): number[] {
  return [...TAIL_SHAPES[name]];
}

/** The graph outputs (NCHW) a tail of `units` units is built on, in the order `tunedPyramid` takes them. */
export function tailBaseParts(units: number): { name: string; stride: number; channels: number }[] {
  const input = GRAPH.unitInputs[MAX_TAIL_UNITS - units];
  return [
    { name: GRAPH.lateral8, stride: 8, channels: 128 },
    { name: GRAPH.lateral16, stride: 16, channels: 128 },
    { name: GRAPH.first, stride: 32, channels: 256 },
    ...(input === GRAPH.first ? [] : [{ name: input, stride: 32, channels: 256 }]),
  ];
}

export function tailBaseOutputs(units: number): string[] {
  return tailBaseParts(units).map((p) => p.name);
}

/** The number of units of a tail. */
export function tailUnits(p: TailParams): number {
  return [1, 2, 3].filter((u) => p[`tail${u}a` as TailTensorName]).length;
}

/**
 * The pyramid (NHWC, strides 8, 16, 32) from the frozen parts (NHWC, as `tailBaseOutputs` lists
 * them), its layers run with `ops` (plain to detect, with hand-written gradients to train).
 */
export function tunedPyramid(frozen: readonly tf.Tensor4D[], p: TailParams, ops: LayerOps): tf.Tensor4D[] {
  const [lateral8, lateral16, first] = frozen;
  const units = tailUnits(p);
  const act = (x: tf.Tensor) => tf.leakyRelu(x, GRAPH.alpha) as tf.Tensor4D;
  const conv = (x: tf.Tensor4D, name: TailTensorName, inputGrad: boolean) =>
    act(tf.add(ops.conv3x3(x, p[name] as tf.Tensor4D, inputGrad), p[`${name}Bias` as TailTensorName]!));
  let x = frozen[3] ?? first;
  for (let u = MAX_TAIL_UNITS - units + 1; u <= MAX_TAIL_UNITS; u++) {
    const a = conv(x, `tail${u}a` as TailTensorName, u > MAX_TAIL_UNITS - units + 1);
    const b = conv(a, `tail${u}b` as TailTensorName, true);
    x = tf.concat([b, a], 3);
  }
  const top = tf.concat([conv(x, 'tailMerge', true), first], 3);
  const [b, h, w, c] = top.shape;
  const flat = top.reshape([b * h * w, c]) as tf.Tensor2D;
  const lateral32 = tf.add(ops.linear(flat, p.lateral as tf.Tensor2D, true), p.lateralBias!).reshape([b, h, w, -1]) as tf.Tensor4D;
  const resize = (t: tf.Tensor4D, like: tf.Tensor4D) => ops.resize(t, like.shape[1], like.shape[2]);
  // NanoDet's PAN: top-down by upsampling and adding, then bottom-up by downsampling and adding.
  const mid16 = tf.add(lateral16, resize(lateral32, lateral16)) as tf.Tensor4D;
  const out8 = tf.add(lateral8, resize(mid16, lateral8)) as tf.Tensor4D;
  const out16 = tf.add(mid16, resize(out8, lateral16)) as tf.Tensor4D;
  const out32 = tf.add(lateral32, resize(out16, lateral32)) as tf.Tensor4D;
  return [out8, out16, out32];
}
