import { tf } from '../base/backend.js';
import type { LetterboxedImage } from '../images/decode.js';
import type { ModelManifest } from './manifest.js';

/** Normalises interleaved RGB bytes into a model's layout, channel order, mean and std. */
export function imageToInputTensor(image: LetterboxedImage, input: ModelManifest['input']): tf.Tensor {
  const { width, height, layout, channels, mean, std } = input;
  const plane = width * height;
  const out = new Float32Array(plane * 3);
  const order = channels === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const rgb = image.rgb;
  for (let c = 0; c < 3; c++) {
    const src = order[c];
    const m = mean[c];
    const inv = 1 / std[c];
    if (layout === 'NCHW') {
      const base = c * plane;
      for (let i = 0; i < plane; i++) out[base + i] = (rgb[i * 3 + src] - m) * inv;
    } else {
      for (let i = 0; i < plane; i++) out[i * 3 + c] = (rgb[i * 3 + src] - m) * inv;
    }
  }
  return tf.tensor(out, layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3]);
}

/** The picture an input tensor (batch 1) was made from, as interleaved RGB bytes: imageToInputTensor undone. */
export function inputTensorToBytes(input: tf.Tensor, spec: ModelManifest['input']): Uint8Array {
  const { width, height, layout, channels, mean, std } = spec;
  const data = input.dataSync() as Float32Array;
  const plane = width * height;
  const rgb = new Uint8Array(plane * 3);
  const order = channels === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  // Where channel c of pixel i is: planes one after another (NCHW), or interleaved (NHWC).
  const [channelStride, pixelStride] = layout === 'NCHW' ? [plane, 1] : [1, 3];
  for (let c = 0; c < 3; c++) {
    const dst = order[c];
    const m = mean[c];
    const s = std[c];
    for (let i = 0; i < plane; i++) rgb[i * 3 + dst] = Math.round(data[c * channelStride + i * pixelStride] * s + m);
  }
  return rgb;
}
