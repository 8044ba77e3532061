// What the boxes of each category look like: a Gaussian over a box's size and place in the photo and
// relative to the photo's other items, fitted per category on the boxes a person confirmed.
import { fitRobustGaussian, mahalanobis2, surprise, type Gaussian } from './gaussian.js';
import { withArticle } from './words.js';
import { isVerified, type LintBox, type LintCategory, type LintPhoto } from './photos.js';

/** The features of a box alone, in order, with the words for a box far below or above the usual. */
const FEATURES = [
  { low: 'narrow', high: 'wide', ridge: 0.05 },
  { low: 'short', high: 'tall', ridge: 0.05 },
  { low: 'far left', high: 'far right', ridge: 0.01 },
  { low: 'high at its top edge', high: 'low at its top edge', ridge: 0.01 },
  { low: 'high at its bottom edge', high: 'low at its bottom edge', ridge: 0.01 },
] as const;
/**
 * The features of a box against one other box of the photo: how far to the side (either side), how
 * far below, how tall and how wide next to it. A skirt sits below a top, a shoe beside the other shoe.
 */
const PAIR_FEATURES = [
  { low: 'close beside', high: 'far to the side of', ridge: 0.01 },
  { low: 'high next to', high: 'low next to', ridge: 0.01 },
  { low: 'short next to', high: 'tall next to', ridge: 0.05 },
  { low: 'narrow next to', high: 'wide next to', ridge: 0.05 },
] as const;

/** A model's boxes count from this score where too few are verified. */
export const CONFIDENT_SCORE = 0.5;
/** Boxes of a category it takes to learn its shape (fewer: the category's boxes are not judged by shape). */
const MIN_FIT_BOXES = 20;

/** Features of a box alone: log size relative to the photo, its centre across, its top and bottom edges (where the edges sit is tighter than the centre: shoes end at the feet). */
export function boxFeatures(box: LintBox, photo: LintPhoto): number[] {
  const [x, y, w, h] = box.bbox;
  return [Math.log(w / photo.width), Math.log(h / photo.height), (x + w / 2) / photo.width, y / photo.height, (y + h) / photo.height];
}

/** Features of a box against another of the same photo. */
export function pairFeatures(box: LintBox, other: LintBox, photo: LintPhoto): number[] {
  const [x, y, w, h] = box.bbox;
  const [ox, oy, ow, oh] = other.bbox;
  return [Math.abs(x + w / 2 - (ox + ow / 2)) / photo.width, (y + h / 2 - (oy + oh / 2)) / photo.height, Math.log(h / oh), Math.log(w / ow)];
}

export interface ShapeVerdict {
  /** -log10 of how rarely a right box of its category lies this far out. */
  score: number;
  message: string;
}

interface Sample {
  box: LintBox;
  features: number[];
}

/** The boxes a model learns from: verified ones, else confident ones too, else all. */
function trainingSamples(samples: Sample[]): Sample[] {
  const verified = samples.filter((s) => isVerified(s.box));
  if (verified.length >= MIN_FIT_BOXES) return verified;
  const confident = samples.filter((s) => isVerified(s.box) || (s.box.score ?? 0) >= CONFIDENT_SCORE);
  return confident.length >= MIN_FIT_BOXES ? confident : samples;
}

function push<K>(map: Map<K, Sample[]>, key: K, sample: Sample): void {
  const list = map.get(key);
  if (list) list.push(sample);
  else map.set(key, [sample]);
}

/** Median of numbers (the lower middle of an even count). */
function median<T>(items: T[], value: (t: T) => number): T {
  return [...items].sort((a, b) => value(a) - value(b))[Math.floor((items.length - 1) / 2)];
}

/**
 * Per category, a Gaussian over a box's log size and centre; per pair of categories, a Gaussian over
 * a box's place and height next to a box of the other. A box is judged by both: its own shape, and
 * the median of its pairs (the median, so one wrong neighbour does not cast doubt on a right box).
 */
export class BoxShapeModel {
  private readonly plain = new Map<number, Gaussian>();
  private readonly pairs = new Map<string, Gaussian>();
  private readonly names = new Map<number, string>();

  constructor(photos: readonly LintPhoto[], categories: readonly LintCategory[]) {
    for (const c of categories) this.names.set(c.id, c.name);
    const plain = new Map<number, Sample[]>();
    const pairs = new Map<string, Sample[]>();
    for (const photo of photos) {
      for (const box of photo.boxes) {
        push(plain, box.categoryId, { box, features: boxFeatures(box, photo) });
        for (const other of photo.boxes) {
          if (other !== box) push(pairs, `${box.categoryId}:${other.categoryId}`, { box, features: pairFeatures(box, other, photo) });
        }
      }
    }
    const fit = (samples: Sample[], ridge: readonly number[]) => {
      const chosen = trainingSamples(samples);
      return chosen.length >= MIN_FIT_BOXES ? fitRobustGaussian(chosen.map((s) => s.features), ridge) : undefined;
    };
    for (const [id, samples] of plain) {
      const g = fit(samples, FEATURES.map((f) => f.ridge));
      if (g) this.plain.set(id, g);
    }
    for (const [key, samples] of pairs) {
      const g = fit(samples, PAIR_FEATURES.map((f) => f.ridge));
      if (g) this.pairs.set(key, g);
    }
  }

  categoryName(id: number): string {
    return this.names.get(id) ?? `category ${id}`;
  }

  /** How unusual a box is for its category, and why in words; undefined where the category has no model. */
  judge(box: LintBox, photo: LintPhoto): ShapeVerdict | undefined {
    const g = this.plain.get(box.categoryId);
    if (!g) return undefined;
    const own = boxFeatures(box, photo);
    const ownD2 = mahalanobis2(g, own);
    const against = photo.boxes.flatMap((other) => {
      const pg = other === box ? undefined : this.pairs.get(`${box.categoryId}:${other.categoryId}`);
      if (!pg) return [];
      const features = pairFeatures(box, other, photo);
      return [{ other, g: pg, features, d2: mahalanobis2(pg, features) }];
    });
    const name = this.categoryName(box.categoryId);
    if (against.length === 0) return { score: surprise(ownD2, FEATURES.length), message: explain(g, own, FEATURES, name) };
    const middle = median(against, (a) => a.d2);
    const score = surprise(ownD2 + middle.d2, FEATURES.length + PAIR_FEATURES.length);
    const message =
      surprise(ownD2, FEATURES.length) >= surprise(middle.d2, PAIR_FEATURES.length)
        ? explain(g, own, FEATURES, name)
        : explain(middle.g, middle.features, PAIR_FEATURES, name, `the ${this.categoryName(middle.other.categoryId)}`);
    return { score, message };
  }
}

/** The feature furthest from the mean (in its own standard deviations), in words. */
function explain(g: Gaussian, x: readonly number[], features: readonly { low: string; high: string }[], category: string, other?: string): string {
  const z = x.map((v, i) => (v - g.mean[i]) / g.sd[i]);
  const what = `for ${withArticle(category)}`;
  // Width and height both far the same way read better as one word.
  if (!other && Math.sign(z[0]) === Math.sign(z[1]) && Math.min(Math.abs(z[0]), Math.abs(z[1])) > 2) {
    return `unusually ${z[0] < 0 ? 'small' : 'large'} ${what}`;
  }
  if (!other && Math.sign(z[3]) === Math.sign(z[4]) && Math.min(Math.abs(z[3]), Math.abs(z[4])) > 2) {
    return `unusually ${z[3] < 0 ? 'high' : 'low'} in the photo ${what}`;
  }
  let worst = 0;
  for (let i = 1; i < z.length; i++) if (Math.abs(z[i]) > Math.abs(z[worst])) worst = i;
  const words = z[worst] < 0 ? features[worst].low : features[worst].high;
  return other ? `unusually ${words} ${other} ${what}` : `unusually ${words} ${what}`;
}
