import { tf } from '../backend.js';
import { conv3x3, linear } from './ops.js';

/**
 * The last block of NanoDet-m's backbone (stride 32: three 3x3 convolutions, the second feeding the
 * third beside the first) and the pyramid built on it, rebuilt from the graph's weights in plain tfjs
 * ops so that `train --tune-tail` can fine-tune it. The COCO features alone do not tell a skirt from
 * the lower half of a dress; this block sees the whole outfit, and its change reaches every level
 * through the pyramid's top-down path.
 *
 * With the block's weights as exported, `tunedPyramid` gives the graph's own pyramid outputs.
 */
export const NANODET_TAIL = {
  /**
   * What the frozen rest of the graph gives, NCHW: the stride-8 and stride-16 laterals (after their
   * 1x1 convolutions), the block's input and the stage's first output (concatenated to the block's).
   */
  outputs: [
    'PartitionedCall/transpose_79',
    'PartitionedCall/transpose_82',
    'PartitionedCall/onnx_tf_prefix_Concat_54',
    'PartitionedCall/onnx_tf_prefix_LeakyRelu_44',
  ],
  outputChannels: [128, 128, 256, 256],
  /** The graph's weight for each tail tensor. */
  weights: {
    tailConv1: 'PartitionedCall/split_22',
    tailBias1: 'unknown_44',
    tailConv2: 'PartitionedCall/split_23',
    tailBias2: 'unknown_46',
    tailConv3: 'PartitionedCall/split_24',
    tailBias3: 'unknown_48',
    lateral: 'PartitionedCall/split_27',
    lateralBias: 'unknown_54',
  },
  leakyAlpha: 0.1,
} as const;

export type TailTensorName = keyof typeof NANODET_TAIL.weights;
export const TAIL_TENSORS = Object.keys(NANODET_TAIL.weights) as TailTensorName[];
export type TailParams = Record<TailTensorName, tf.Tensor>;

export const TAIL_SHAPES: Record<TailTensorName, number[]> = {
  tailConv1: [3, 3, 256, 128],
  tailBias1: [128],
  tailConv2: [3, 3, 128, 128],
  tailBias2: [128],
  tailConv3: [3, 3, 256, 256],
  tailBias3: [256],
  lateral: [512, 128],
  lateralBias: [128],
};

/** The block's weights as exported in the base graph (copies; the 1x1 lateral as a [512, 128] matrix). */
export function pretrainedTail(graph: tf.GraphModel): TailParams {
  const weights = graph.weights;
  return Object.fromEntries(
    TAIL_TENSORS.map((name) => {
      const t = weights[NANODET_TAIL.weights[name]]?.[0];
      if (!t || t.size !== TAIL_SHAPES[name].reduce((a, b) => a * b, 1)) throw new Error(`the base graph has no weight ${NANODET_TAIL.weights[name]} of shape ${TAIL_SHAPES[name].join('x')}`);
      return [name, tf.tidy(() => tf.cast(t, 'float32').reshape(TAIL_SHAPES[name]))];
    }),
  ) as TailParams;
}

/**
 * The pyramid (NHWC, strides 8, 16, 32) from the frozen parts [stride-8 lateral, stride-16 lateral,
 * block input, stage first output], NHWC. `trainable` uses the convolutions and resizes with
 * hand-written gradients (ops.ts, `resizeTrainable`).
 */
export function tunedPyramid(frozen: readonly tf.Tensor4D[], p: TailParams, trainable: boolean): tf.Tensor4D[] {
  const [lateral8, lateral16, blockInput, firstHalf] = frozen;
  const act = (x: tf.Tensor) => tf.leakyRelu(x, NANODET_TAIL.leakyAlpha) as tf.Tensor4D;
  const conv = (x: tf.Tensor4D, k: tf.Tensor, inputGrad: boolean) => (trainable ? conv3x3(x, k as tf.Tensor4D, inputGrad) : tf.conv2d(x, k as tf.Tensor4D, 1, 'same'));
  const h1 = act(tf.add(conv(blockInput, p.tailConv1, false), p.tailBias1));
  const h2 = act(tf.add(conv(h1, p.tailConv2, true), p.tailBias2));
  const h3 = act(tf.add(conv(tf.concat([h2, h1], 3), p.tailConv3, true), p.tailBias3));
  const top = tf.concat([h3, firstHalf], 3);
  const [b, h, w, c] = top.shape;
  const flat = top.reshape([b * h * w, c]) as tf.Tensor2D;
  const lateral32 = tf.add(trainable ? linear(flat, p.lateral as tf.Tensor2D, true) : tf.matMul(flat, p.lateral as tf.Tensor2D), p.lateralBias).reshape([b, h, w, -1]) as tf.Tensor4D;
  const resize = (x: tf.Tensor4D, like: tf.Tensor4D) => (trainable ? resizeTrainable(x, like.shape[1], like.shape[2]) : graphResize(x, like.shape[1], like.shape[2]));
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
