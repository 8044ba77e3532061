import { tf } from '../base/backend.js';
import { OutputDecoder, type OutputSpec, type RawOutput } from '../detect/output-decoder.js';
import { AP_MIN_SCORE, evaluateBoxes, type DetBox } from '../eval/coco-eval.js';
import { reviewEdits } from '../eval/review-edits.js';
import { headOutputs, type HeadParams } from '../models/fpn-head.js';
import type { TrainImage } from './dataset.js';
import type { FeatureSample } from './features.js';
import { batchBodies, batchTensors, type BaseOutputShape } from './step.js';
import type { ValidationResult } from './types.js';

/** The minimum score a trained model shows boxes from: where F1 peaked on its validation photos, to 1/100. */
export const defaultMinScoreFrom = (bestF1: { minScore: number }): number => Math.round(bestF1.minScore * 100) / 100;

/** Held-out photos run through the head this many at a time. */
const BATCH = 8;

export interface ValidationPhoto {
  image: TrainImage;
  sample: FeatureSample;
}

/**
 * Measures the model in training as the Detector would run it: the head's outputs decoded, suppressed
 * and mapped back to source pixels by the Detector's own OutputDecoder, built from the manifest the
 * model will have; then COCO AP on the held-out photos.
 */
export class Validator {
  private readonly decoder: OutputDecoder;

  constructor(
    private readonly spec: OutputSpec,
    private readonly photos: readonly ValidationPhoto[],
    private readonly inputShapes: readonly BaseOutputShape[],
  ) {
    if (spec.output.decoder !== 'nanodet') throw new Error('a trained head has NanoDet\'s outputs');
    // The head's class outputs are taken here as logits, before the sigmoid the Detector's network
    // applies in tfjs; the decoder applies it, in double precision, as validation always has.
    this.decoder = new OutputDecoder({ ...spec, output: { ...spec.output, scoreActivation: 'sigmoid' } });
  }

  run(params: HeadParams): ValidationResult {
    const dts: DetBox[] = [];
    for (let i = 0; i < this.photos.length; i += BATCH) {
      const chunk = this.photos.slice(i, i + BATCH);
      const outputs = this.headOutputs(chunk, params);
      chunk.forEach((photo, bi) => {
        // Scores and boxes at full precision: AP sees every score as the model gave it.
        for (const d of this.decoder.detections(outputs.map((o) => photoOutput(o, bi)), photo.sample.box, AP_MIN_SCORE, { exact: true })) {
          dts.push({ imageId: photo.image.id, categoryId: d.categoryId, bbox: d.bbox, score: d.score });
        }
      });
    }
    const gts = this.photos.flatMap((v) => v.image.boxes.map((b) => ({ imageId: v.image.id, categoryId: b.categoryId, bbox: b.bbox })));
    const imageIds = this.photos.map((v) => v.image.id).sort((a, b) => a - b);
    const result = evaluateBoxes(imageIds, this.spec.categories, gts, dts);
    // What a reviewer faces at the model's default minimum score.
    const defaultMinScore = result.bestF1 ? defaultMinScoreFrom(result.bestF1) : undefined;
    return {
      images: this.photos.length,
      ap: result.ap,
      ap50: result.ap50,
      ap75: result.ap75,
      perCategory: result.perCategory.map((c) => ({ name: c.name, gtCount: c.gtCount, ap: c.ap, ap50: c.ap50 })),
      bestF1: result.bestF1,
      ...(defaultMinScore === undefined ? {} : { review: reviewEdits(imageIds, gts, dts, defaultMinScore) }),
    };
  }

  /** The head's outputs for a batch of photos: per level, class logits and distance logits, [B, cells, *]. */
  private headOutputs(chunk: readonly ValidationPhoto[], params: HeadParams): RawOutput[] {
    const numClasses = this.spec.labels.length;
    const samples = chunk.map((v) => v.sample);
    const outputs = tf.tidy(() => headOutputs(batchTensors(samples, this.inputShapes), params, numClasses, false, batchBodies(samples)));
    const arrays = outputs.map((t) => ({ data: t.dataSync() as Float32Array, shape: t.shape }));
    tf.dispose(outputs);
    return arrays;
  }
}

/** Photo `index`'s part of a batch output [B, cells, k], as the Detector's network gives it for one photo. */
function photoOutput(output: RawOutput, index: number): RawOutput {
  const [, cells, k] = output.shape;
  return { data: output.data.subarray(index * cells * k, (index + 1) * cells * k), shape: [1, cells, k] };
}
