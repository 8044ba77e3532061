import { tf } from '../base/backend.js';

/**
 * The layers of the trained parts (head, tail) that training runs differently: plain tfjs ops to
 * detect; to train, ops whose gradients are written by hand (train/ops.ts), because the WebAssembly
 * backend lacks some gradient kernels and has wrong ones for others. Both give the same forward values.
 * `inputGrad`: the input is trained too (a tuned tail feeds the head), so its gradient is needed.
 */
export interface LayerOps {
  /** 3x3 'same' convolution, NHWC input [B, H, W, Ci], kernel [3, 3, Ci, Co]. */
  conv3x3(x: tf.Tensor4D, kernel: tf.Tensor4D, inputGrad: boolean): tf.Tensor4D;
  /** x [N, Ci] times weight [Ci, Co]. */
  linear(x: tf.Tensor2D, weight: tf.Tensor2D, inputGrad: boolean): tf.Tensor2D;
  /** Bilinear resize with half-pixel centres, as the base graph resizes. */
  resize(x: tf.Tensor4D, rows: number, cols: number): tf.Tensor4D;
}

/** The base graph's resize: bilinear, half-pixel centres. */
export function graphResize(x: tf.Tensor4D, rows: number, cols: number): tf.Tensor4D {
  return tf.image.resizeBilinear(x, [rows, cols], false, true);
}

/** Plain tfjs ops: what the Detector runs. */
export const INFERENCE_OPS: LayerOps = {
  conv3x3: (x, kernel) => tf.conv2d(x, kernel, 1, 'same'),
  linear: (x, weight) => tf.matMul(x, weight),
  resize: graphResize,
};
