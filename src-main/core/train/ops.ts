import { tf } from '../base/backend.js';
import { graphResize, type LayerOps } from '../models/layer-ops.js';

/**
 * Convolutions that train on every tfjs backend. The WebAssembly backend has forward conv kernels
 * (XNNPACK, fast) but no Conv2DBackpropFilter, and its matMul with a transposed operand is about ten
 * times slower than a plain one. So the gradients here are written by hand: the input gradient is
 * itself a forward convolution with the flipped kernel, and the kernel gradient is one plain matMul of
 * the im2col'ed input (built in JavaScript, channels first) with the output gradient.
 */

/** Row-major [rows, cols] to [cols, rows], in JavaScript: much faster than tf.transpose on wasm. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

/**
 * im2col of a 3x3, stride 1, 'same' convolution, transposed: [9 * C, B * H * W] where row
 * (k * C + c), k = ky * 3 + kx, holds input channel c shifted by (ky - 1, kx - 1), zeros outside.
 */
export function im2colTransposed(x: Float32Array, b: number, h: number, w: number, c: number): Float32Array {
  const n = b * h * w;
  // Channels first with a one-pixel zero border: every shifted row is then one contiguous copy.
  const hp = h + 2;
  const wp = w + 2;
  const padded = new Float32Array(c * b * hp * wp);
  for (let bi = 0; bi < b; bi++) {
    for (let y = 0; y < h; y++) {
      for (let xi = 0; xi < w; xi++) {
        const src = ((bi * h + y) * w + xi) * c;
        const dst = (bi * hp + y + 1) * wp + xi + 1;
        for (let ci = 0; ci < c; ci++) padded[ci * b * hp * wp + dst] = x[src + ci];
      }
    }
  }
  const out = new Float32Array(9 * c * n);
  for (let ky = 0; ky < 3; ky++) {
    for (let kx = 0; kx < 3; kx++) {
      const k = ky * 3 + kx;
      for (let ci = 0; ci < c; ci++) {
        const rowBase = (k * c + ci) * n;
        const plane = ci * b * hp * wp;
        for (let bi = 0; bi < b; bi++) {
          for (let y = 0; y < h; y++) {
            const from = plane + (bi * hp + y + ky) * wp + kx;
            out.set(padded.subarray(from, from + w), rowBase + (bi * h + y) * w);
          }
        }
      }
    }
  }
  return out;
}

/**
 * 3x3 'same' convolution, NHWC input [B, H, W, Ci], kernel [3, 3, Ci, Co]. With `inputGrad` false the
 * input is treated as a constant (frozen features), which saves the backward convolution.
 */
export function conv3x3(x: tf.Tensor4D, kernel: tf.Tensor4D, inputGrad = true): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xt, kt, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xt, kt]);
    return {
      value: tf.conv2d(xt, kt, 1, 'same'),
      gradFunc: (dy, saved) => {
        const [xs, ks] = saved as [tf.Tensor4D, tf.Tensor4D];
        const [b, h, w, ci] = xs.shape;
        const co = ks.shape[3];
        const dy4 = dy as tf.Tensor4D;
        const cols = tf.tensor2d(im2colTransposed(xs.dataSync() as Float32Array, b, h, w, ci), [9 * ci, b * h * w]);
        const dk = tf.matMul(cols, dy4.reshape([b * h * w, co])).reshape([3, 3, ci, co]);
        cols.dispose();
        // d(input) = correlation of dy with the kernel turned 180 degrees and in/out swapped.
        const dx = inputGrad ? tf.conv2d(dy4, tf.transpose(tf.reverse(ks, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D, 1, 'same') : tf.zerosLike(xs);
        return [dx, dk];
      },
    };
  });
  return op(x, kernel) as tf.Tensor4D;
}

/** x [N, Ci] times w [Ci, Co], with gradients computed by plain (untransposed) matMuls. */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, inputGrad = true): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xt, wt, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([xt, wt]);
    return {
      value: tf.matMul(xt, wt),
      gradFunc: (dy, saved) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const [n, ci] = xs.shape;
        const xT = tf.tensor2d(transpose2d(xs.dataSync() as Float32Array, n, ci), [ci, n]);
        const dw = tf.matMul(xT, dy as tf.Tensor2D);
        xT.dispose();
        const dx = inputGrad ? tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)) : tf.zerosLike(xs);
        return [dx, dw];
      },
    };
  });
  return op(x, weight) as tf.Tensor2D;
}

/** The identity whose gradient is zero: targets computed from predictions must not be trained. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const op = tf.customGrad((xIn) => ({ value: (xIn as tf.Tensor).clone(), gradFunc: (dy) => tf.zerosLike(dy as tf.Tensor) }));
  return op(x) as T;
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
 * values are not this resize's gradient (tests/core/train.test.ts checks this one against matrices). A
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

/** The layers of the head and the tail as training runs them: the same forward values as INFERENCE_OPS, with gradients that work on every backend. */
export const TRAINING_OPS: LayerOps = { conv3x3, linear, resize: resizeTrainable };
