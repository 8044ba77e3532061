import { initBackend, tf } from '../base/backend.js';
import type { PhotoHash } from '../dedupe/phash.js';
import { decodeLetterboxed, type LetterboxedImage } from '../images/decode.js';
import { imageToInputTensor } from '../models/input-tensor.js';
import { defaultMinScoreOf } from '../models/manifest.js';
import { loadNetwork, type Network } from '../models/network.js';
import type { ResolvedModel } from '../models/registry.js';
import { OutputDecoder, type Detection, type RawOutput } from './output-decoder.js';

export type { BBox, Detection } from './output-decoder.js';

export interface StageTimings {
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
  /** The perceptual hash's time, where the detector worker computed one. */
  hashMs?: number;
}

export interface ImageDetections {
  file: string;
  width: number;
  height: number;
  detections: Detection[];
  timings: StageTimings;
  /**
   * The photo's perceptual hashes (core/dedupe), from the picture already decoded for the model: the
   * detector pool's workers add them, so a workspace finds near-duplicates without decoding again.
   */
  hash?: PhotoHash;
}

/**
 * One loaded model, one per worker thread: `load`, then `detect` photos. Pre-processing reads a photo
 * upright and letterboxed to the input size and normalises it into the input tensor; the network runs;
 * post-processing (OutputDecoder) turns its outputs into boxes in the photo's own pixels.
 */
export class Detector {
  private constructor(
    readonly model: ResolvedModel,
    private readonly network: Network,
    private readonly decoder: OutputDecoder,
  ) {}

  static async load(model: ResolvedModel): Promise<Detector> {
    await initBackend();
    const network = await loadNetwork(model);
    const detector = new Detector(model, network, new OutputDecoder(model.manifest));
    detector.warmUp();
    return detector;
  }

  /** The first run compiles kernels; doing it at load keeps it out of the first photo's time. */
  private warmUp(): void {
    const { width, height, layout } = this.model.manifest.input;
    const shape = layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3];
    tf.tidy(() => {
      this.network.run(tf.zeros(shape)).forEach((t) => t.dataSync());
    });
  }

  /** Pre-processing, first part: the photo upright, scaled to fit the input, padded right and bottom. */
  readImage(file: string): Promise<LetterboxedImage> {
    const { width, height, padValue } = this.model.manifest.input;
    return decodeLetterboxed(file, width, height, padValue);
  }

  /** Runs the network and returns its outputs as plain arrays with their shapes, in output order. */
  forward(input: tf.Tensor): RawOutput[] {
    const outputs = this.network.run(input);
    try {
      return outputs.map((t) => ({ data: t.dataSync() as Float32Array, shape: t.shape }));
    } finally {
      tf.dispose(outputs);
    }
  }

  /** Detection on a photo already read (readImage), so the caller can read the next one meanwhile. */
  detect(file: string, image: LetterboxedImage, minScore: number, decodeMs = 0): ImageDetections {
    const t0 = performance.now();
    const input = imageToInputTensor(image, this.model.manifest.input);
    const t1 = performance.now();
    let outputs: RawOutput[];
    try {
      outputs = this.forward(input);
    } finally {
      input.dispose();
    }
    const t2 = performance.now();
    const detections = this.decoder.detections(outputs, image.box, minScore);
    const t3 = performance.now();
    return {
      file,
      width: image.width,
      height: image.height,
      detections,
      timings: { decodeMs, preprocessMs: t1 - t0, inferenceMs: t2 - t1, postprocessMs: t3 - t2 },
    };
  }

  async detectFile(file: string, minScore = defaultMinScoreOf(this.model.manifest)): Promise<ImageDetections> {
    const t0 = performance.now();
    const image = await this.readImage(file);
    return this.detect(file, image, minScore, performance.now() - t0);
  }

  dispose(): void {
    this.network.dispose();
  }
}
