// Faults a rule sees without a model of shape: a second box of a category labelled once per photo,
// a box of a few pixels, two boxes of one category over each other.
import { boxesOf, oneOf, withArticle } from './words.js';
import type { LintBox, LintCategory, LintPhoto, Problem } from './photos.js';
import { boxIou } from '../eval/coco-eval.js';

/** Photos of a category it takes before "once per photo" counts as the data's convention (as train finds it). */
const SINGLE_INSTANCE_MIN_PHOTOS = 10;
/**
 * Share of a category's photos that may have two of it while it still counts as labelled once per
 * photo (one photo at least, from 20 photos on). train's rule is "never"; lint allows a few, since the
 * faults it looks for break the rule.
 */
const SINGLE_INSTANCE_TOLERANCE = 0.02;
const TOLERANCE_FROM_PHOTOS = 20;
/** A box with a side below this many pixels, or fewer pixels than TINY_AREA, is a slip of the mouse. */
const TINY_SIDE = 4;
const TINY_AREA = 64;
/** Two boxes of one category overlapping this much (intersection over union) label one item twice. */
const STACKED_IOU = 0.9;

/** Scores of the rules: -log10 of how rarely a right label would break them (a judgement, not a fit). */
export const RULE_SCORES = { tiny: 8, stacked: 6 } as const;

/** The categories the photos label once per photo: in 10 photos or more, and two of them in at most 2% of those (or one). */
export function singleInstanceCategoryIds(photos: readonly LintPhoto[]): number[] {
  const photosWith = new Map<number, number>();
  const photosWithTwo = new Map<number, number>();
  for (const photo of photos) {
    const counts = new Map<number, number>();
    for (const b of photo.boxes) counts.set(b.categoryId, (counts.get(b.categoryId) ?? 0) + 1);
    for (const [id, n] of counts) {
      photosWith.set(id, (photosWith.get(id) ?? 0) + 1);
      if (n > 1) photosWithTwo.set(id, (photosWithTwo.get(id) ?? 0) + 1);
    }
  }
  return [...photosWith]
    .filter(([id, n]) => {
      const allowed = n >= TOLERANCE_FROM_PHOTOS ? Math.max(1, Math.floor(SINGLE_INSTANCE_TOLERANCE * n)) : 0;
      return n >= SINGLE_INSTANCE_MIN_PHOTOS && (photosWithTwo.get(id) ?? 0) <= allowed;
    })
    .map(([id]) => id)
    .sort((a, b) => a - b);
}

export interface RuleContext {
  categories: ReadonlyMap<number, LintCategory>;
  singleInstance: ReadonlySet<number>;
  /** Photos that have each category: how strong the once-per-photo convention is. */
  photosWith: ReadonlyMap<number, number>;
  /** How unusual each box looks for its category (BoxShapeModel), 0 where unknown. */
  shapeScore: (box: LintBox, photo: LintPhoto) => number;
}

function problem(photo: LintPhoto, box: LintBox, kind: Problem['kind'], message: string, score: number): Problem {
  return { boxId: box.id, photoId: photo.id ?? null, photo: photo.name, kind, message, score };
}

/** The rules' problems in one photo. */
export function ruleProblems(photo: LintPhoto, context: RuleContext): Problem[] {
  const problems: Problem[] = [];
  const name = (id: number) => context.categories.get(id)?.name ?? `category ${id}`;
  for (const box of photo.boxes) {
    const [, , w, h] = box.bbox;
    if (Math.min(w, h) < TINY_SIDE || w * h < TINY_AREA) {
      problems.push(problem(photo, box, 'tiny-box', `a box of a few pixels (${round(w)}x${round(h)}) for ${withArticle(name(box.categoryId))}`, RULE_SCORES.tiny));
    }
  }
  const byCategory = new Map<number, LintBox[]>();
  for (const box of photo.boxes) byCategory.set(box.categoryId, [...(byCategory.get(box.categoryId) ?? []), box]);
  for (const [categoryId, boxes] of byCategory) {
    if (boxes.length < 2) continue;
    const stacked = new Set<LintBox>();
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const overlap = boxIou(boxes[i].bbox, boxes[j].bbox, false);
        if (overlap < STACKED_IOU) continue;
        const later = boxes[i].id > boxes[j].id ? boxes[i] : boxes[j];
        stacked.add(later);
        problems.push(problem(photo, later, 'stacked-boxes', `two ${boxesOf(name(categoryId))} over each other (overlap ${Math.round(overlap * 100)}%)`, RULE_SCORES.stacked));
      }
    }
    if (!context.singleInstance.has(categoryId)) continue;
    // The most usual-looking box is taken as the one meant; each other is a second one.
    const ranked = boxes.filter((b) => !stacked.has(b)).map((b) => ({ b, shape: context.shapeScore(b, photo) })).sort((x, y) => x.shape - y.shape || x.b.id - y.b.id);
    const convention = Math.log10((context.photosWith.get(categoryId) ?? 0) + 1);
    ranked.slice(1).forEach(({ b, shape }, k) => {
      const nth = k === 0 ? 'second' : k === 1 ? 'third' : `${k + 2}th`;
      problems.push(problem(photo, b, 'second-instance', `${nth} ${oneOf(name(categoryId))} in one photo (the other photos have one at most)`, convention + Math.max(0, shape)));
    });
  }
  return problems;
}

function round(v: number): string {
  return String(Math.round(v * 10) / 10);
}
