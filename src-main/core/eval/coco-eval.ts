import type { ModelManifest } from '../models/manifest.js';

export { parseGroundTruth, parsePredictions, type GroundTruth, type Predictions, type ResultEntry } from './inputs.js';

/**
 * COCO box evaluation as pycocotools' COCOeval does it (iouType 'bbox', area 'all', useCats): per image
 * and category, detections sorted by score are matched greedily to the unmatched ground truth box of
 * highest IoU >= t; crowd boxes are matched by intersection over the detection's area, may take any
 * number of detections and count neither way; precision is interpolated at 101 recall points under its
 * monotone envelope, and categories without ground truth are left out of the mean.
 */

/** np.linspace(start, stop, num) to the bit, so thresholds such as 0.8999999999999999 agree with pycocotools. */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

export const IOU_THRESHOLDS: readonly number[] = linspace(0.5, 0.95, 10);
export const RECALL_THRESHOLDS: readonly number[] = linspace(0, 1, 101);
/** pycocotools keeps the 100 best detections per image and category. */
export const DEFAULT_MAX_DETECTIONS = 100;

/** Detections are kept down to this score for AP: low, so the precision-recall curve is whole. */
export const AP_MIN_SCORE = 0.05;
/** np.spacing(1): keeps tp / (tp + fp) defined, and makes a perfect score 0.9999999999999998 as in pycocotools. */
const EPS = 2.220446049250313e-16;
/** Area range 'all' of pycocotools: [0, 1e5 ** 2]. */
const AREA_MAX = 1e10;

export type Box = readonly [x: number, y: number, width: number, height: number];

/** A ground-truth box in evaluator ids. */
export interface GtBox {
  imageId: number;
  categoryId: number;
  bbox: Box;
  /** Defaults to width x height, as COCO files give it. */
  area?: number;
  iscrowd?: boolean;
}

/** A detection in evaluator ids. */
export interface DetBox {
  imageId: number;
  categoryId: number;
  bbox: Box;
  score: number;
}

export interface CategoryEval {
  id: number;
  name: string;
  /** Ground-truth boxes that count (not crowd). */
  gtCount: number;
  crowdCount: number;
  /** Detections of this category on the evaluated images, before the per-image cut. */
  detectionCount: number;
  /** null where the category has no ground truth on the evaluated images. */
  ap: number | null;
  ap50: number | null;
  ap75: number | null;
  /** Recall with up to maxDetections a picture, averaged over the IoU thresholds (COCO's AR@100). */
  recall: number | null;
  /** Interpolated precision [iou threshold][recall threshold]; null without ground truth. */
  precision: number[][] | null;
}

export interface MatchReport {
  /** 'predicted': the GT images the prediction document lists; 'all': every GT image (bare results). */
  imageScope: 'predicted' | 'all';
  imagesEvaluated: number;
  /** GT images left out because the prediction document does not list them. */
  gtImagesNotPredicted: string[];
  /** Prediction images (by file name or id) with no GT image of that name; their detections are ignored. */
  predImagesNotInGt: string[];
  /** Prediction images that name a GT image another prediction image already took (by bare file name); ignored. */
  predImagesDuplicated: string[];
  /** Prediction categories whose name is not a GT category; their detections are ignored. */
  predCategoriesNotInGt: { name: string; detections: number }[];
  /** GT categories the prediction document does not know: they count with AP 0 (pycocotools' rule). */
  gtCategoriesNotPredicted: string[];
  detectionsUsed: number;
  detectionsIgnored: number;
}

export interface CocoEvalResult {
  /** AP at IoU .50:.05:.95, mean over the categories with ground truth; null when there are none. */
  ap: number | null;
  ap50: number | null;
  ap75: number | null;
  recall: number | null;
  /**
   * The mean AP over only the categories that both sides know (the GT's and the predictions' category
   * lists), for a model that does not cover all GT categories; equals `ap` otherwise.
   */
  apSharedCategories: number | null;
  maxDetections: number;
  iouThresholds: readonly number[];
  recallThresholds: readonly number[];
  perCategory: CategoryEval[];
  /** null without ground truth or detections. */
  bestF1: OperatingPoint | null;
  matching: MatchReport;
  /** With EvaluateOptions.reviewScore: the edits a reviewer makes per photo at that score. */
  review?: ReviewEdits;
}

/**
 * What a reviewer faces: the edits that turn a model's boxes at a minimum score into the ground truth.
 * Per photo, boxes are matched by category at IoU 0.5, greedily by descending score (each to the
 * unmatched true box of highest IoU); a box left over that lies on an unmatched true box of another
 * category (IoU 0.5) is one relabel; the other boxes left over are deletes; true boxes left over are
 * draws. Crowd regions need no box and cost nothing.
 */
export interface ReviewEdits {
  /** Boxes scoring below this are not shown to the reviewer. */
  minScore: number;
  images: number;
  /** Per photo, on average. */
  edits: number;
  deletes: number;
  draws: number;
  relabels: number;
  trueBoxes: number;
  shownBoxes: number;
}

/** Where F1 at IoU 0.5, over all categories together, peaks: a starting point for the confidence slider. */
export interface OperatingPoint {
  /** Keep detections scoring at least this. */
  minScore: number;
  precision: number;
  recall: number;
  f1: number;
  /** Detections a picture at this score, on average. */
  detectionsPerImage: number;
}

export interface EvaluateOptions {
  maxDetections?: number;
  /**
   * Names of the categories the model can report at all. A manifest (and so a labelled document) may
   * list categories that no raw class feeds; given this, those are the ones named as not predicted.
   */
  reportableCategories?: readonly string[];
  /** Also count the edits a reviewer makes on the boxes at this score (review-edits.ts); 'best-f1': where F1 peaks. */
  reviewScore?: number | 'best-f1';
}

/** The categories a model's raw classes actually feed, by name. */
export function reportableCategories(manifest: ModelManifest): string[] {
  const names = new Set(manifest.labels.map((l) => (manifest.labelToCategory ? manifest.labelToCategory[l] : l)));
  return manifest.categories.filter((c) => names.has(c.name)).map((c) => c.name);
}

/** IoU of boxes [x, y, w, h]; for a crowd box the union is the detection's area (maskApi's bbIou). */
export function boxIou(dt: Box, gt: Box, crowd: boolean): number {
  const w = Math.min(dt[0] + dt[2], gt[0] + gt[2]) - Math.max(dt[0], gt[0]);
  if (w <= 0) return 0;
  const h = Math.min(dt[1] + dt[3], gt[1] + gt[3]) - Math.max(dt[1], gt[1]);
  if (h <= 0) return 0;
  const inter = w * h;
  const union = crowd ? dt[2] * dt[3] : dt[2] * dt[3] + gt[2] * gt[3] - inter;
  return inter / union;
}

/** Stable order by descending score (numpy's mergesort on -score). */
function byScore<T extends { score: number }>(items: T[]): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => b.item.score - a.item.score || a.index - b.index)
    .map((e) => e.item);
}

interface ImageEval {
  scores: number[];
  /** [threshold][detection]: matched to a counted or crowd box. */
  matched: boolean[][];
  ignored: boolean[][];
  gtIgnored: boolean[];
}

/** pycocotools' evaluateImg for one picture and category. */
function evaluateImage(gts: GtBox[], dts: DetBox[], maxDetections: number, thresholds: readonly number[]): ImageEval | null {
  if (gts.length === 0 && dts.length === 0) return null;
  const withIgnore = gts.map((g, index) => {
    const area = g.area ?? g.bbox[2] * g.bbox[3];
    return { g, index, ignore: Boolean(g.iscrowd) || area < 0 || area > AREA_MAX };
  });
  // Counted boxes first, crowd boxes last, each group in file order.
  withIgnore.sort((a, b) => Number(a.ignore) - Number(b.ignore) || a.index - b.index);
  const gt = withIgnore.map((e) => e.g);
  const gtIgnored = withIgnore.map((e) => e.ignore);
  const dt = byScore(dts).slice(0, maxDetections);
  const ious = dt.map((d) => gt.map((g) => boxIou(d.bbox, g.bbox, Boolean(g.iscrowd))));

  const matched: boolean[][] = [];
  const ignored: boolean[][] = [];
  for (const t of thresholds) {
    const gtTaken = new Array<boolean>(gt.length).fill(false);
    const dtMatched = new Array<boolean>(dt.length).fill(false);
    const dtIgnored = new Array<boolean>(dt.length).fill(false);
    for (let d = 0; d < dt.length; d++) {
      let best = Math.min(t, 1 - 1e-10);
      let m = -1;
      for (let g = 0; g < gt.length; g++) {
        if (gtTaken[g] && !gt[g].iscrowd) continue;
        // Matched to a counted box already: crowd boxes, sorted last, cannot take it away.
        if (m > -1 && !gtIgnored[m] && gtIgnored[g]) break;
        if (ious[d][g] < best) continue;
        best = ious[d][g];
        m = g;
      }
      if (m === -1) {
        const area = dt[d].bbox[2] * dt[d].bbox[3];
        dtIgnored[d] = area < 0 || area > AREA_MAX;
        continue;
      }
      dtIgnored[d] = gtIgnored[m];
      dtMatched[d] = true;
      gtTaken[m] = true;
    }
    matched.push(dtMatched);
    ignored.push(dtIgnored);
  }
  return { scores: dt.map((d) => d.score), matched, ignored, gtIgnored };
}

/** First index i with sorted[i] >= value (np.searchsorted, side 'left'). */
function searchLeft(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** pycocotools' accumulate for one category: interpolated precision [t][r] and final recall [t]. */
function accumulate(evals: ImageEval[], thresholds: readonly number[]): { precision: number[][]; recall: number[] } | null {
  const counted = evals.reduce((n, e) => n + e.gtIgnored.filter((i) => !i).length, 0);
  if (counted === 0) return null;
  // All pictures' detections by score; ties keep picture order, then the order within a picture.
  const order = evals.flatMap((e, ei) => e.scores.map((score, di) => ({ score, ei, di })));
  const sorted = byScore(order);
  const precision: number[][] = [];
  const recall: number[] = [];
  thresholds.forEach((_, t) => {
    const rc: number[] = [];
    const pr: number[] = [];
    let tp = 0;
    let fp = 0;
    for (const { ei, di } of sorted) {
      const e = evals[ei];
      if (!e.ignored[t][di]) {
        if (e.matched[t][di]) tp++;
        else fp++;
      }
      rc.push(tp / counted);
      pr.push(tp / (tp + fp + EPS));
    }
    recall.push(rc.length > 0 ? rc[rc.length - 1] : 0);
    for (let i = pr.length - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
    precision.push(RECALL_THRESHOLDS.map((r) => {
      const i = searchLeft(rc, r);
      return i < pr.length ? pr[i] : 0;
    }));
  });
  return { precision, recall };
}

/** Sweeps the score threshold over every category's detections at IoU 0.5 (matching is greedy by score, so a threshold only cuts the list). */
function bestF1(evals: readonly ImageEval[], imageCount: number): OperatingPoint | null {
  const counted = evals.reduce((n, e) => n + e.gtIgnored.filter((i) => !i).length, 0);
  const dets = evals.flatMap((e) => e.scores.map((score, d) => ({ score, matched: e.matched[0][d], ignored: e.ignored[0][d] })));
  if (counted === 0 || dets.length === 0) return null;
  dets.sort((a, b) => b.score - a.score);
  let best: OperatingPoint | null = null;
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < dets.length; i++) {
    if (!dets[i].ignored) {
      if (dets[i].matched) tp++;
      else fp++;
    }
    // Only where the next detection scores lower can the threshold fall between them.
    if (i + 1 < dets.length && dets[i + 1].score === dets[i].score) continue;
    const f1 = (2 * tp) / (tp + fp + counted);
    if (!best || f1 > best.f1) {
      best = { minScore: dets[i].score, precision: tp / Math.max(1, tp + fp), recall: tp / counted, f1, detectionsPerImage: (i + 1) / imageCount };
    }
  }
  return best;
}

export const mean = (values: number[]) => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);

/**
 * The evaluation proper, on boxes already in the ground truth's image and category ids. `imageIds` are
 * the pictures evaluated, in the order pycocotools would take them (ascending id).
 */
export function evaluateBoxes(
  imageIds: readonly number[],
  categories: readonly { id: number; name: string }[],
  gts: readonly GtBox[],
  dts: readonly DetBox[],
  options: EvaluateOptions = {},
): Omit<CocoEvalResult, 'matching' | 'apSharedCategories'> {
  const maxDetections = options.maxDetections ?? DEFAULT_MAX_DETECTIONS;
  const thresholds = IOU_THRESHOLDS;
  const images = new Set(imageIds);
  const key = (img: number, cat: number) => `${img}:${cat}`;
  const gtBy = new Map<string, GtBox[]>();
  const dtBy = new Map<string, DetBox[]>();
  const add = <T extends GtBox | DetBox>(by: Map<string, T[]>, box: T) => {
    if (!images.has(box.imageId)) return;
    const k = key(box.imageId, box.categoryId);
    const list = by.get(k);
    if (list) list.push(box);
    else by.set(k, [box]);
  };
  for (const g of gts) add(gtBy, g);
  for (const d of dts) add(dtBy, d);

  const allEvals: ImageEval[] = [];
  const perCategory: CategoryEval[] = categories.map((c) => {
    const evals: ImageEval[] = [];
    let gtCount = 0;
    let crowdCount = 0;
    let detectionCount = 0;
    for (const img of imageIds) {
      const g = gtBy.get(key(img, c.id)) ?? [];
      const d = dtBy.get(key(img, c.id)) ?? [];
      gtCount += g.filter((b) => !b.iscrowd).length;
      crowdCount += g.filter((b) => b.iscrowd).length;
      detectionCount += d.length;
      const e = evaluateImage(g, d, maxDetections, thresholds);
      if (e) evals.push(e);
    }
    allEvals.push(...evals);
    const acc = accumulate(evals, thresholds);
    const apAt = (t: number) => (acc ? mean(acc.precision[t])! : null);
    return {
      id: c.id,
      name: c.name,
      gtCount,
      crowdCount,
      detectionCount,
      ap: acc ? mean(acc.precision.flat())! : null,
      ap50: apAt(0),
      ap75: apAt(5),
      recall: acc ? mean(acc.recall)! : null,
      precision: acc ? acc.precision : null,
    };
  });
  const over = (pick: (c: CategoryEval) => number | null) => mean(perCategory.map(pick).filter((v): v is number => v !== null));
  return {
    ap: over((c) => c.ap),
    ap50: over((c) => c.ap50),
    ap75: over((c) => c.ap75),
    recall: over((c) => c.recall),
    maxDetections,
    iouThresholds: thresholds,
    recallThresholds: RECALL_THRESHOLDS,
    perCategory,
    bestF1: bestF1(allEvals, imageIds.length),
  };
}
