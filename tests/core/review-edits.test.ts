// The edits a reviewer makes to turn a model's boxes into the true ones (core/eval/review-edits.ts),
// on cases counted by hand.
import { describe, expect, it } from 'vitest';
import type { DetBox, GtBox } from '../../src-main/core/eval/coco-eval';
import { reviewEdits } from '../../src-main/core/eval/review-edits';

const gt = (imageId: number, categoryId: number, x: number, y = 0, size = 100, iscrowd = false): GtBox => ({ imageId, categoryId, bbox: [x, y, size, size], iscrowd });
const dt = (imageId: number, categoryId: number, x: number, score: number, y = 0, size = 100): DetBox => ({ imageId, categoryId, bbox: [x, y, size, size], score });

describe('edits per photo at a minimum score', () => {
  it('counts a right box as nothing, a box of the wrong category on a true box as one relabel, the rest as deletes and draws', () => {
    const gts = [gt(1, 1, 0), gt(1, 2, 200), gt(1, 3, 400), gt(2, 1, 0)];
    const dts = [
      dt(1, 1, 5, 0.9), // right
      dt(1, 1, 0, 0.8), // a second top on the same true box: delete
      dt(1, 3, 200, 0.7), // category 3 on the true box of category 2: relabel
      dt(1, 2, 600, 0.6), // on nothing: delete
      dt(1, 3, 400, 0.3), // right, but below the score: not shown, so the true box is drawn
      dt(2, 1, 0, 0.9), // right
    ];
    const r = reviewEdits([1, 2], gts, dts, 0.5);
    // Photo 1: 2 deletes, 1 relabel, 1 draw; photo 2: none. Per photo: half of that.
    expect(r).toEqual({ minScore: 0.5, images: 2, edits: 2, deletes: 1, draws: 0.5, relabels: 0.5, trueBoxes: 2, shownBoxes: 2.5 });
    // At 0.2 the box of category 3 is shown and matches: no draw.
    expect(reviewEdits([1, 2], gts, dts, 0.2)).toMatchObject({ draws: 0, deletes: 1, relabels: 0.5 });
  });

  it('matches greedily by score, each box to the free true box it overlaps most, at IoU 0.5', () => {
    // Two true shoes side by side; the better box lies between them, closer to the right one.
    const gts = [gt(1, 7, 0), gt(1, 7, 100)];
    const dts = [dt(1, 7, 70, 0.9), dt(1, 7, 0, 0.8)];
    // The first takes the right shoe (IoU 0.54), the second the left one (IoU 1): nothing to do.
    expect(reviewEdits([1], gts, dts, 0.5).edits).toBe(0);
    // A box overlapping by IoU 1/3 only is no match: one delete and one draw.
    expect(reviewEdits([1], [gt(1, 7, 0)], [dt(1, 7, 50, 0.9)], 0.5)).toMatchObject({ deletes: 1, draws: 1, relabels: 0 });
  });

  it('costs nothing for a crowd region, nor for a box on one; counts photos without boxes', () => {
    const r = reviewEdits([1, 2, 3], [gt(1, 1, 0, 0, 100, true)], [dt(1, 1, 0, 0.9)], 0.5);
    expect(r).toMatchObject({ images: 3, edits: 0, trueBoxes: 0 });
  });
});
