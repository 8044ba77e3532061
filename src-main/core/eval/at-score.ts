import { boxIou, type DetBox, type GtBox } from './coco-eval.js';
import { greedyMatch, MATCH_IOU } from './review-edits.js';

// What a person sees at a minimum score (the window's confidence slider): of the boxes shown, how many
// are right (precision), and of the true boxes, how many are shown (recall).

export interface ScoreCounts {
  /** True boxes (crowd regions aside). */
  trueBoxes: number;
  /** Boxes scoring at the minimum or above. */
  shown: number;
  /** Of those, the ones matched to a true box of their category at IoU 0.5 (each true box at most once). */
  right: number;
  /** right / shown; null when nothing is shown. */
  precision: number | null;
  /** right / trueBoxes; null without true boxes. */
  recall: number | null;
}

const counts = (trueBoxes: number, shown: number, right: number): ScoreCounts => ({
  trueBoxes,
  shown,
  right,
  precision: shown > 0 ? right / shown : null,
  recall: trueBoxes > 0 ? right / trueBoxes : null,
});

/** Per photo, the shown boxes by descending score, each matched to the free true box of its category with the highest IoU (0.5 or more). */
function rightBoxes(gts: readonly GtBox[], dts: readonly DetBox[]): number {
  const taken = new Array<boolean>(gts.length).fill(false);
  return greedyMatch([...dts].sort((a, b) => b.score - a.score), gts, taken, (dt, gt) => dt.categoryId === gt.categoryId).size;
}

/**
 * Precision and recall at `minScore`, per category and over all boxes together, on the photos
 * `imageIds`. Crowd regions are left out on both sides (a box on one is neither right nor wrong).
 */
export function countsAtScore(
  imageIds: readonly number[],
  categories: readonly { id: number }[],
  gts: readonly GtBox[],
  dts: readonly DetBox[],
  minScore: number,
): { perCategory: Map<number, ScoreCounts>; overall: ScoreCounts } {
  const images = new Set(imageIds);
  const key = (img: number, cat: number) => `${img}:${cat}`;
  const gtBy = new Map<string, GtBox[]>();
  const dtBy = new Map<string, DetBox[]>();
  const crowd = gts.filter((g) => g.iscrowd && images.has(g.imageId));
  for (const g of gts) if (!g.iscrowd && images.has(g.imageId)) gtBy.set(key(g.imageId, g.categoryId), [...(gtBy.get(key(g.imageId, g.categoryId)) ?? []), g]);
  for (const d of dts) {
    if (d.score < minScore || !images.has(d.imageId)) continue;
    const onCrowd = crowd.some((g) => g.imageId === d.imageId && g.categoryId === d.categoryId && boxIou(d.bbox, g.bbox, true) >= MATCH_IOU);
    if (!onCrowd) dtBy.set(key(d.imageId, d.categoryId), [...(dtBy.get(key(d.imageId, d.categoryId)) ?? []), d]);
  }
  const perCategory = new Map<number, ScoreCounts>();
  const total = { trueBoxes: 0, shown: 0, right: 0 };
  for (const c of categories) {
    let trueBoxes = 0;
    let shown = 0;
    let right = 0;
    for (const img of images) {
      const g = gtBy.get(key(img, c.id)) ?? [];
      const d = dtBy.get(key(img, c.id)) ?? [];
      trueBoxes += g.length;
      shown += d.length;
      right += rightBoxes(g, d);
    }
    perCategory.set(c.id, counts(trueBoxes, shown, right));
    total.trueBoxes += trueBoxes;
    total.shown += shown;
    total.right += right;
  }
  return { perCategory, overall: counts(total.trueBoxes, total.shown, total.right) };
}
