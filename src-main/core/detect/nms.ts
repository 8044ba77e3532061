import type { Candidate } from '../models/candidate.js';

export type { Candidate };

function intersection(a: Candidate, b: Candidate): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  return iw > 0 && ih > 0 ? iw * ih : 0;
}

function area(a: Candidate): number {
  return (a.x2 - a.x1) * (a.y2 - a.y1);
}

export function iou(a: Candidate, b: Candidate): number {
  const inter = intersection(a, b);
  if (inter === 0) return 0;
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** The share of the smaller box's area that lies inside the other box. */
function nesting(a: Candidate, b: Candidate): number {
  const smaller = Math.min(area(a), area(b));
  return smaller > 0 ? intersection(a, b) / smaller : 0;
}

export interface NmsOptions {
  /** At most this many boxes are kept, best first. */
  maxKeep?: number;
  /**
   * A box nested in a higher-scoring box of its class (or around one) by at least this share of the
   * smaller box's area has its score multiplied by `nestedScoreFactor`. Such pairs have a low IoU, so
   * plain NMS keeps both: one shoe inside a box around both shoes, a leg inside the trousers.
   */
  nestedShare?: number;
  nestedScoreFactor?: number;
  /**
   * Classes labelled with one box per photo at most in the model's training data. Each box of such a
   * class after its best one has its score multiplied by `extraInstanceScoreFactor`: with that
   * labelling it is a part or a double of the first (one trouser leg, the lower half of a top) far
   * more often than a second item, and IoU-based NMS keeps it when it overlaps little.
   */
  singleInstanceClasses?: ReadonlySet<number>;
  extraInstanceScoreFactor?: number;
  /** Boxes scored down below this are dropped, as the decoder drops those below it to begin with. */
  minScore?: number;
  /**
   * Weighted NMS: a box suppressed by a kept box of its class at this IoU or more, and scoring
   * `MERGE_SCORE_FLOOR` at least, is averaged into the kept box, weighted by score. Absent: plain NMS.
   */
  mergeIou?: number;
}

/** Chosen on the fashion-ccp validation split: mAP50 0.484 to 0.515, and far fewer stacked boxes in the window. */
export const NESTED_SHARE = 0.8;
export const NESTED_SCORE_FACTOR = 0.5;
/** Chosen on the same split with fashion-ccp 1.2.0's weights: mAP50 0.534 to 0.543 (0.3 and 0.1 gave the same). */
export const EXTRA_INSTANCE_SCORE_FACTOR = 0.5;

/**
 * Chosen on the fashion-ccp validation split with 1.4.0's weights (IoU 0.6 to 0.9 tried): mAP 0.314 to
 * 0.324, AP75 0.295 to 0.327; the boxes the detector proposes around one item each place its sides a
 * little differently, and their average is closer than the best-scored one alone.
 */
export const MERGE_IOU = 0.75;
/**
 * Only boxes scoring this much are averaged in, whatever the minimum score asked for, so a box is
 * placed the same at every minimum score (evaluation's AP floor, AP_MIN_SCORE, is the same 0.05).
 */
export const MERGE_SCORE_FLOOR = 0.05;

/**
 * Greedy non-maximum suppression within each class: a box is dropped when it overlaps a higher-scoring
 * box of the same class by more than `iouThreshold`, and scored down when it is nested in one or is a
 * second box of a single-instance class (see NmsOptions). Returns the kept boxes, best first, with
 * their final scores.
 */
export function classwiseNms(candidates: Candidate[], iouThreshold: number, options: NmsOptions = {}): Candidate[] {
  const {
    maxKeep = 100,
    nestedShare = NESTED_SHARE,
    nestedScoreFactor = NESTED_SCORE_FACTOR,
    singleInstanceClasses,
    extraInstanceScoreFactor = EXTRA_INSTANCE_SCORE_FACTOR,
    minScore = 0,
    mergeIou,
  } = options;
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const keptByClass = new Map<number, Candidate[]>();
  const kept: Candidate[] = [];
  const mergedInto = new Map<Candidate, Candidate[]>();
  let keptAsScored = 0;
  for (const c of sorted) {
    // Boxes kept at their own score outrank this one and every later one: the cut is reached.
    if (keptAsScored >= maxKeep) break;
    const same = keptByClass.get(c.classIndex) ?? [];
    const over = same.find((k) => iou(k, c) > iouThreshold);
    if (over) {
      if (mergeIou !== undefined && c.score >= MERGE_SCORE_FLOOR && iou(over, c) >= mergeIou) mergedInto.get(over)?.push(c) ?? mergedInto.set(over, [c]);
      continue;
    }
    // Under the minimum score (every later one is too): such a box is only averaged into a shown one.
    if (c.score < minScore) continue;
    const nested = same.some((k) => nesting(k, c) >= nestedShare);
    const extraInstance = same.length > 0 && singleInstanceClasses?.has(c.classIndex) === true;
    const factor = (nested ? nestedScoreFactor : 1) * (extraInstance ? extraInstanceScoreFactor : 1);
    const box = factor !== 1 ? { ...c, score: c.score * factor } : c;
    // A scored-down box still suppresses the boxes that overlap it.
    same.push(box);
    keptByClass.set(c.classIndex, same);
    if (box.score < minScore) continue;
    kept.push(box);
    if (box === c) keptAsScored++;
  }
  // Scored-down boxes move behind the ones that were not, before the cut.
  return kept
    .map((k) => weightedBox(k, mergedInto.get(k)))
    .sort((a, b) => b.score - a.score)
    .slice(0, maxKeep);
}

/** The kept box with its sides averaged with those of the boxes it suppressed, weighted by their scores. */
function weightedBox(kept: Candidate, suppressed: Candidate[] | undefined): Candidate {
  if (!suppressed) return kept;
  const all = [kept, ...suppressed];
  const total = all.reduce((n, b) => n + b.score, 0);
  const side = (of: (b: Candidate) => number) => all.reduce((n, b) => n + of(b) * b.score, 0) / total;
  return { ...kept, x1: side((b) => b.x1), y1: side((b) => b.y1), x2: side((b) => b.x2), y2: side((b) => b.y2) };
}
