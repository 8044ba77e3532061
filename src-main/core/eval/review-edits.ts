import { boxIou, type DetBox, type GtBox, type ReviewEdits } from './coco-eval.js';

// The edits a reviewer makes to turn a model's boxes into the ground truth (ReviewEdits in coco-eval.ts says how they are counted).

/** A shown box matches a true box at this IoU or more (the window's and a reviewer's sense of "right"). */
export const MATCH_IOU = 0.5;

interface Counts {
  deletes: number;
  draws: number;
  relabels: number;
}

/** Boxes matched in descending score order, each to the free target of highest IoU at MATCH_IOU or more. */
export function greedyMatch(dts: readonly DetBox[], gts: readonly GtBox[], taken: boolean[], accept: (dt: DetBox, gt: GtBox) => boolean): Set<DetBox> {
  const matched = new Set<DetBox>();
  for (const dt of dts) {
    let best = -1;
    let bestIou = MATCH_IOU;
    gts.forEach((gt, i) => {
      if (taken[i] || !accept(dt, gt)) return;
      const iou = boxIou(dt.bbox, gt.bbox, false);
      if (iou >= bestIou) {
        best = i;
        bestIou = iou;
      }
    });
    if (best >= 0) {
      taken[best] = true;
      matched.add(dt);
    }
  }
  return matched;
}

function photoEdits(dts: DetBox[], gts: readonly GtBox[]): Counts {
  const real = gts.filter((g) => !g.iscrowd);
  const crowd = gts.filter((g) => g.iscrowd);
  const shown = [...dts].sort((a, b) => b.score - a.score);
  const taken = new Array<boolean>(real.length).fill(false);
  const right = greedyMatch(shown, real, taken, (dt, gt) => dt.categoryId === gt.categoryId);
  const left = shown.filter((d) => !right.has(d));
  const relabelled = greedyMatch(left, real, taken, (dt, gt) => dt.categoryId !== gt.categoryId);
  // A box on a crowd region of its category is neither right nor wrong.
  const onCrowd = (d: DetBox) => crowd.some((g) => g.categoryId === d.categoryId && boxIou(d.bbox, g.bbox, true) >= MATCH_IOU);
  const deletes = left.filter((d) => !relabelled.has(d) && !onCrowd(d)).length;
  return { deletes, draws: taken.filter((t) => !t).length, relabels: relabelled.size };
}

export function reviewEdits(imageIds: readonly number[], gts: readonly GtBox[], dts: readonly DetBox[], minScore: number): ReviewEdits {
  const byImage = new Map<number, { gts: GtBox[]; dts: DetBox[] }>(imageIds.map((id) => [id, { gts: [], dts: [] }]));
  for (const g of gts) byImage.get(g.imageId)?.gts.push(g);
  for (const d of dts) if (d.score >= minScore) byImage.get(d.imageId)?.dts.push(d);
  const total: Counts & { trueBoxes: number; shownBoxes: number } = { deletes: 0, draws: 0, relabels: 0, trueBoxes: 0, shownBoxes: 0 };
  for (const photo of byImage.values()) {
    const c = photoEdits(photo.dts, photo.gts);
    total.deletes += c.deletes;
    total.draws += c.draws;
    total.relabels += c.relabels;
    total.trueBoxes += photo.gts.filter((g) => !g.iscrowd).length;
    total.shownBoxes += photo.dts.length;
  }
  const n = Math.max(1, byImage.size);
  return {
    minScore,
    images: byImage.size,
    edits: (total.deletes + total.draws + total.relabels) / n,
    deletes: total.deletes / n,
    draws: total.draws / n,
    relabels: total.relabels / n,
    trueBoxes: total.trueBoxes / n,
    shownBoxes: total.shownBoxes / n,
  };
}
