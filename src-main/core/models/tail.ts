import { tf } from '../base/backend.js';
import { conv3x3, linear } from './ops.js';

/**
 * The last stage of NanoDet-m's backbone (stride 32) and the pyramid built on it, rebuilt from the
 * graph's weights in plain tfjs ops so that `train --tune-tail` can fine-tune it. The COCO features
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

/** The graph's weight for each tail tensor, and its shape here (the 1x1 lateral as a matrix). */
const TAIL_WEIGHTS = {
  tail1a: ['PartitionedCall/split_18', [3, 3, 256, 128]],
  tail1aBias: ['unknown_36', [128]],
  tail1b: ['PartitionedCall/split_19', [3, 3, 128, 128]],
  tail1bBias: ['unknown_38', [128]],
  tail2a: ['PartitionedCall/split_20', [3, 3, 256, 128]],
  tail2aBias: ['unknown_40', [128]],
  tail2b: ['PartitionedCall/split_21', [3, 3, 128, 128]],
  tail2bBias: ['unknown_42', [128]],
  tail3a: ['PartitionedCall/split_22', [3, 3, 256, 128]],
  tail3aBias: ['unknown_44', [128]],
  tail3b: ['PartitionedCall/split_23', [3, 3, 128, 128]],
  tail3bBias: ['unknown_46', [128]],
  tailMerge: ['PartitionedCall/split_24', [3, 3, 256, 256]],
  tailMergeBias: ['unknown_48', [256]],
  lateral: ['PartitionedCall/split_27', [512, 128]],
  lateralBias: ['unknown_54', [128]],
} as const satisfies Record<string, readonly [string, readonly number[]]>;

export type TailTensorName = keyof typeof TAIL_WEIGHTS;
/** Every tail tensor, in the order they are stored. */
export const TAIL_TENSORS = Object.keys(TAIL_WEIGHTS) as TailTensorName[];
export type TailParams = Partial<Record<TailTensorName, tf.Tensor>>;
export const MAX_TAIL_UNITS = 3;

/** The tensors of a tail of `units` units (0: none), in the order they are stored. */
export function tailTensorNames(units: number): TailTensorName[] {
  return units === 0 ? [] : TAIL_TENSORS.filter((n) => !/^tail\d/.test(n) || Number(n[4]) > MAX_TAIL_UNITS - units);
}

export function tailShape(name: TailTensorName): number[] {
  return [...TAIL_WEIGHTS[name][1]];
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

/** A tail's weights as exported in the base graph (copies). */
export function pretrainedTail(graph: tf.GraphModel, units: number): TailParams {
  const weights = graph.weights;
  return Object.fromEntries(
    tailTensorNames(units).map((name) => {
      const [node, shape] = TAIL_WEIGHTS[name];
      const t = weights[node]?.[0];
      if (!t || t.size !== shape.reduce((a: number, b: number) => a * b, 1)) throw new Error(`the base graph has no weight ${node} of shape ${shape.join('x')}`);
      return [name, tf.tidy(() => tf.cast(t, 'float32').reshape([...shape]))];
    }),
  );
}

/** The number of units of a tail. */
export function tailUnits(p: TailParams): number {
  return [1, 2, 3].filter((u) => p[`tail${u}a` as TailTensorName]).length;
}

/**
 * The pyramid (NHWC, strides 8, 16, 32) from the frozen parts (NHWC, as `tailBaseOutputs` lists
 * them). `trainable` uses the convolutions and resizes with hand-written gradients (ops.ts,
 * `resizeTrainable`).
 */
export function tunedPyramid(frozen: readonly tf.Tensor4D[], p: TailParams, trainable: boolean): tf.Tensor4D[] {
  const [lateral8, lateral16, first] = frozen;
  const units = tailUnits(p);
  const act = (x: tf.Tensor) => tf.leakyRelu(x, GRAPH.alpha) as tf.Tensor4D;
  const conv = (x: tf.Tensor4D, name: TailTensorName, inputGrad: boolean) =>
    act(tf.add(trainable ? conv3x3(x, p[name] as tf.Tensor4D, inputGrad) : tf.conv2d(x, p[name] as tf.Tensor4D, 1, 'same'), p[`${name}Bias` as TailTensorName]!));
  let x = frozen[3] ?? first;
  for (let u = MAX_TAIL_UNITS - units + 1; u <= MAX_TAIL_UNITS; u++) {
    const a = conv(x, `tail${u}a` as TailTensorName, u > MAX_TAIL_UNITS - units + 1);
    const b = conv(a, `tail${u}b` as TailTensorName, true);
    x = tf.concat([b, a], 3);
  }
  const top = tf.concat([conv(x, 'tailMerge', true), first], 3);
  const [b, h, w, c] = top.shape;
  const flat = top.reshape([b * h * w, c]) as tf.Tensor2D;
  const lateral32 = tf.add(trainable ? linear(flat, p.lateral as tf.Tensor2D, true) : tf.matMul(flat, p.lateral as tf.Tensor2D), p.lateralBias!).reshape([b, h, w, -1]) as tf.Tensor4D;
  const resize = (t: tf.Tensor4D, like: tf.Tensor4D) => (trainable ? resizeTrainable(t, like.shape[1], like.shape[2]) : graphResize(t, like.shape[1], like.shape[2]));
  // NanoDet's PAN: top-down by upsampling and adding, then bottom-up by downsampling and adding.
  const mid16 = tf.add(lateral16, resize(lateral32, lateral16)) as tf.Tensor4D;
  const out8 = tf.add(lateral8, resize(mid16, lateral8)) as tf.Tensor4D;
  const out16 = tf.add(mid16, resize(out8, lateral16)) as tf.Tensor4D;
  const out32 = tf.add(lateral32, resize(out16, lateral32)) as tf.Tensor4D;
  return [out8, out16, out32];
}

/** The graph's resize: bilinear, half-pixel centres. */
function graphResize(x: tf.Tensor4D, rows: number, cols: number): tf.Tensor4D {
  return tf.image.resizeBilinear(x, [rows, cols], false, true);
}

/**
 * The weights of a 1-D resize from `from` to `to` samples, read off the forward op itself (so they
 * are the graph's by construction): for each output, its (input, weight) pairs.
 */
const resizeWeights = new Map<string, { index: number; weight: number }[][]>();
function weightsOf(from: number, to: number): { index: number; weight: number }[][] {
  const key = `${from}>${to}`;
  let w = resizeWeights.get(key);
  if (!w) {
    const eye = tf.tidy(() => graphResize(tf.eye(from).reshape([1, from, 1, from]) as tf.Tensor4D, to, 1).dataSync() as Float32Array);
    w = Array.from({ length: to }, (_, o) => Array.from({ length: from }, (_, i) => ({ index: i, weight: eye[o * from + i] })).filter((e) => e.weight !== 0));
    resizeWeights.set(key, w);
  }
  return w;
}

/**
 * The graph's resize with its gradient written out. tfjs 4.22's own ResizeBilinearGrad cannot be
 * used: the cpu backend's returns rows and columns swapped when they differ, the WebAssembly one's
 * values are not this resize's gradient (tests/train.test.ts checks this one against matrices). A
 * bilinear resize is separable and linear, so the gradient spreads each output's gradient back over
 * its inputs with the same weights.
 */
export function resizeTrainable(x: tf.Tensor4D, rows: number, cols: number): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xt = args[0] as tf.Tensor4D;
    const [b, h, w, c] = xt.shape;
    return {
      value: graphResize(xt, rows, cols),
      gradFunc: (dy) => {
        const g = (dy as tf.Tensor4D).dataSync() as Float32Array;
        const wr = weightsOf(h, rows);
        const wc = weightsOf(w, cols);
        // Columns first ([b, rows, w, c]), then rows ([b, h, w, c]).
        const mid = new Float32Array(b * rows * w * c);
        for (let bi = 0; bi < b; bi++) {
          for (let r = 0; r < rows; r++) {
            const outRow = (bi * rows + r) * cols;
            const midRow = (bi * rows + r) * w;
            for (let oc = 0; oc < cols; oc++) {
              const src = (outRow + oc) * c;
              for (const { index, weight } of wc[oc]) {
                const dst = (midRow + index) * c;
                for (let ci = 0; ci < c; ci++) mid[dst + ci] += weight * g[src + ci];
              }
            }
          }
        }
        const dx = new Float32Array(b * h * w * c);
        const rowSize = w * c;
        for (let bi = 0; bi < b; bi++) {
          for (let r = 0; r < rows; r++) {
            const src = (bi * rows + r) * rowSize;
            for (const { index, weight } of wr[r]) {
              const dst = (bi * h + index) * rowSize;
              for (let k = 0; k < rowSize; k++) dx[dst + k] += weight * mid[src + k];
            }
          }
        }
        return [tf.tensor4d(dx, [b, h, w, c])];
      },
    };
  });
  return op(x) as tf.Tensor4D;
}
