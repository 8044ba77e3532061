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

/** The picture an input tensor (batch 1) was made from, [H, W, 3] RGB 0-255: imageToInputTensor undone. */
export function inputTensorToPicture(input: tf.Tensor, spec: ModelManifest['input']): tf.Tensor3D {
  const { layout, channels, mean, std } = spec;
  return tf.tidy(() => {
    const nhwc = (layout === 'NCHW' ? tf.transpose(input, [0, 2, 3, 1]) : input).squeeze([0]) as tf.Tensor3D;
    const values = tf.add(tf.mul(nhwc, tf.tensor1d(std)), tf.tensor1d(mean)) as tf.Tensor3D;
    return channels === 'BGR' ? (tf.reverse(values, 2) as tf.Tensor3D) : values;
  });
}
