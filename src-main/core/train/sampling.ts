import { seededRandom, shuffled } from '../base/random.js';
import { classesIn, type TrainImage } from './dataset.js';

/**
 * How many times each photo is shown an epoch (repeat-factor sampling): the largest
 * sqrt(threshold / f) over its categories, f the share of photos with that category, at least 1.
 */
export function repeatFactors(photos: readonly TrainImage[], numClasses: number, threshold: number): Map<number, number> {
  const withClass = new Array<number>(numClasses).fill(0);
  for (const p of photos) for (const c of classesIn(p)) withClass[c]++;
  const factor = withClass.map((n) => (n === 0 || threshold <= 0 ? 1 : Math.max(1, Math.sqrt(threshold / (n / photos.length)))));
  return new Map(photos.map((p) => [p.id, Math.max(1, ...[...classesIn(p)].map((c) => factor[c]))]));
}

/** Learning rate: linear warm-up over the first 300 steps, then cosine down to 5%. */
export function learningRateAt(step: number, totalSteps: number, peak: number): number {
  const warmup = Math.min(300, Math.floor(totalSteps / 10));
  if (step < warmup) return peak * (0.1 + (0.9 * step) / warmup);
  const t = (step - warmup) / Math.max(1, totalSteps - warmup);
  return peak * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, t))));
}

/** A training sample: one photo as the base saw it one way (see feature-reader.ts). */
interface Variant {
  image: { id: number };
  zoomed: boolean;
}

/**
 * Which samples each epoch shows, in which order: every training photo as often as its repeat factor
 * says, as one of its variants (plain, mirrored, or a quarter of the time smaller), shuffled. The same
 * seed and epoch give the same order, so a resumed training goes on as it would have.
 */
export class EpochSampler {
  /** The training photos that were read, in order. */
  readonly photoIds: number[];
  /** Samples an epoch, repeats included: fixed, so steps and ETA are known ahead (the rounding is random). */
  readonly perEpoch: number;
  readonly steps: number;
  private readonly variants = new Map<number, number[]>();

  constructor(
    private readonly samples: readonly Variant[],
    private readonly repeats: ReadonlyMap<number, number>,
    batchSize: number,
    private readonly seed: number,
  ) {
    this.photoIds = [...new Set(samples.map((s) => s.image.id))];
    samples.forEach((s, i) => this.variants.set(s.image.id, [...(this.variants.get(s.image.id) ?? []), i]));
    this.perEpoch = Math.round(this.photoIds.reduce((n, id) => n + repeats.get(id)!, 0));
    this.steps = Math.ceil(this.perEpoch / batchSize);
  }

  /** Indices into the samples, in the order epoch `epoch` (from 0) shows them. */
  order(epoch: number): number[] {
    const { photoIds, perEpoch } = this;
    const random = seededRandom(this.seed * 7919 + epoch + 1);
    const shown = photoIds.flatMap((id) => {
      const r = this.repeats.get(id)!;
      return Array<number>(Math.floor(r) + (random() < r - Math.floor(r) ? 1 : 0)).fill(id);
    });
    // Rounding may give a few photos more or fewer than the fixed count: cut, or top up at random.
    while (shown.length < perEpoch) shown.push(photoIds[Math.floor(random() * photoIds.length)]);
    return shuffled(shown, random)
      .slice(0, perEpoch)
      .map((id) => {
        const v = this.variants.get(id)!;
        const zoomed = v.filter((i) => this.samples[i].zoomed);
        const full = v.filter((i) => !this.samples[i].zoomed);
        const pool = zoomed.length > 0 && random() < 0.25 ? zoomed : full;
        return pool[Math.floor(random() * pool.length)];
      });
  }
}
