import { describe, expect, it } from 'vitest';
import { boxIou, evaluateBoxes, IOU_THRESHOLDS, RECALL_THRESHOLDS, type DetBox, type GtBox } from '../../src-main/core/eval/coco-eval';
import { evaluateCoco } from '../../src-main/core/eval/evaluate-coco';

/**
 * Cases worked out by hand. AP is the mean of interpolated precision at 101 recall points (0, 0.01, ...
 * 1) and 10 IoU thresholds; pycocotools divides by tp + fp + 2.2e-16, so a perfect 1 reads 1 - 2e-16.
 */
const cats = [{ id: 1, name: 'top' }, { id: 2, name: 'bag' }, { id: 3, name: 'belt' }];
const gt = (imageId: number, categoryId: number, bbox: [number, number, number, number], iscrowd = false): GtBox => ({ imageId, categoryId, bbox, iscrowd });
const dt = (imageId: number, categoryId: number, bbox: [number, number, number, number], score: number): DetBox => ({ imageId, categoryId, bbox, score });
const A: [number, number, number, number] = [0, 0, 100, 100];
const B: [number, number, number, number] = [200, 200, 50, 80];
const far: [number, number, number, number] = [400, 400, 30, 30];

describe('COCO evaluation on hand-computed cases', () => {
  it('uses pycocotools thresholds to the bit', () => {
    expect(IOU_THRESHOLDS).toHaveLength(10);
    expect(IOU_THRESHOLDS[8]).toBe(0.8999999999999999); // np.linspace's value, not 0.9
    expect(RECALL_THRESHOLDS).toHaveLength(101);
    expect(RECALL_THRESHOLDS[100]).toBe(1);
  });

  it('perfect predictions give AP 1 at every threshold', () => {
    const r = evaluateBoxes([1, 2], cats.slice(0, 2), [gt(1, 1, A), gt(1, 2, B), gt(2, 1, B)], [dt(1, 1, A, 0.9), dt(1, 2, B, 0.8), dt(2, 1, B, 0.7)]);
    for (const v of [r.ap, r.ap50, r.ap75, r.recall]) expect(v).toBeCloseTo(1, 12);
    expect(r.perCategory.map((c) => c.gtCount)).toEqual([2, 1]);
  });

  it('one false positive ranked above the only true positive: precision 1/2 at every recall, AP 0.5', () => {
    const r = evaluateBoxes([1], cats.slice(0, 1), [gt(1, 1, A)], [dt(1, 1, far, 0.9), dt(1, 1, A, 0.8)]);
    expect(r.ap).toBeCloseTo(0.5, 12);
    expect(r.ap50).toBeCloseTo(0.5, 12);
    expect(r.perCategory[0].precision![0].every((p) => Math.abs(p - 0.5) < 1e-12)).toBe(true);
  });

  it('TP, FP, TP over two boxes: precision 1 up to recall 0.50 (51 points), then 2/3 (50 points)', () => {
    const r = evaluateBoxes([1], cats.slice(0, 1), [gt(1, 1, A), gt(1, 1, B)], [dt(1, 1, A, 0.9), dt(1, 1, far, 0.8), dt(1, 1, B, 0.7)]);
    const expected = (51 * 1 + 50 * (2 / 3)) / 101; // 0.83498...
    expect(r.ap).toBeCloseTo(expected, 12);
    expect(r.ap50).toBeCloseTo(expected, 12);
    // A miss: only the first box found, 1 of 2: precision 1 up to recall 0.5, 0 after.
    const half = evaluateBoxes([1], cats.slice(0, 1), [gt(1, 1, A), gt(1, 1, B)], [dt(1, 1, A, 0.9)]);
    expect(half.ap).toBeCloseTo(51 / 101, 12);
    expect(half.recall).toBeCloseTo(0.5, 12);
  });

  it('a box is matched at a threshold its IoU equals exactly (IoU >= t)', () => {
    const one = (box: [number, number, number, number]) => evaluateBoxes([1], cats.slice(0, 1), [gt(1, 1, A)], [dt(1, 1, box, 0.9)]);
    expect(boxIou([0, 0, 50, 100], A, false)).toBe(0.5);
    const at50 = one([0, 0, 50, 100]);
    expect([at50.ap50, at50.ap75]).toEqual([expect.closeTo(1, 12), 0]);
    expect(at50.ap).toBeCloseTo(0.1, 12); // matched at 1 threshold of 10
    const at75 = one([0, 0, 75, 100]);
    expect(at75.ap75).toBeCloseTo(1, 12);
    expect(at75.ap).toBeCloseTo(0.6, 12); // 0.50 ... 0.75: 6 of 10
    // IoU 0.9 passes the 9th threshold, which np.linspace makes 0.8999999999999999.
    expect(one([0, 0, 90, 100]).ap).toBeCloseTo(0.9, 12);
    expect(one([0, 0, 95, 100]).ap).toBeCloseTo(1, 12);
    expect(one([0, 0, 49, 100]).ap).toBe(0);
  });

  it('a duplicate detection is a false positive: after the hit it costs nothing, between hits it costs', () => {
    const after = evaluateBoxes([1], cats.slice(0, 1), [gt(1, 1, A)], [dt(1, 1, A, 0.9), dt(1, 1, A, 0.8)]);
    expect(after.ap).toBeCloseTo(1, 12);
    const between = evaluateBoxes([1], cats.slice(0, 1), [gt(1, 1, A), gt(1, 1, B)], [dt(1, 1, A, 0.9), dt(1, 1, [1, 1, 100, 100], 0.8), dt(1, 1, B, 0.7)]);
    expect(between.ap50).toBeCloseTo((51 + 50 * (2 / 3)) / 101, 12);
  });

  it('greedy by score: the higher-scored detection takes the box even when a later one fits it better', () => {
    // Both detections overlap A; the first (IoU 0.64) takes it, the second (IoU 1) is a false positive.
    const r = evaluateBoxes([1], cats.slice(0, 1), [gt(1, 1, A)], [dt(1, 1, [0, 0, 80, 80], 0.9), dt(1, 1, A, 0.8)]);
    expect(r.ap50).toBeCloseTo(1, 12); // precision 1 at recall 1 from the first detection
    // At IoU 0.65 and up the first misses, so A goes to the second: precision 1/2.
    expect(r.perCategory[0].precision![3][50]).toBeCloseTo(0.5, 12);
    expect(r.ap).toBeCloseTo((3 * 1 + 7 * 0.5) / 10, 12);
  });

  it('a category without ground truth is left out of the mean; one with ground truth and no detection counts 0', () => {
    const r = evaluateBoxes([1], cats, [gt(1, 1, A), gt(1, 2, B)], [dt(1, 1, A, 0.9), dt(1, 3, far, 0.9)]);
    expect(r.perCategory.map((c) => c.ap)).toEqual([expect.closeTo(1, 12), 0, null]);
    expect(r.ap).toBeCloseTo(0.5, 12); // (1 + 0) / 2, belt not counted
    expect(r.perCategory[2].detectionCount).toBe(1);
  });

  it('crowd boxes: detections inside count neither way, however many; a crowd-only category is left out', () => {
    const crowd: [number, number, number, number] = [300, 0, 200, 200];
    const gts = [gt(1, 1, A), gt(1, 1, crowd, true), gt(1, 2, crowd, true)];
    // Two detections inside the crowd region (IoU = intersection / detection area = 1) above the hit.
    const inCrowd = [dt(1, 1, [320, 20, 40, 40], 0.95), dt(1, 1, [400, 100, 50, 50], 0.94)];
    const r = evaluateBoxes([1], cats.slice(0, 2), gts, [...inCrowd, dt(1, 1, A, 0.9), dt(1, 2, [310, 10, 20, 20], 0.9)]);
    expect(boxIou([320, 20, 40, 40], crowd, true)).toBe(1);
    expect(r.perCategory[0].ap).toBeCloseTo(1, 12);
    expect(r.perCategory[0].crowdCount).toBe(1);
    expect(r.perCategory[1].ap).toBeNull();
    expect(r.ap).toBeCloseTo(1, 12);
    // The same region not marked crowd: a box of its own that the detections miss, 2 false positives first.
    const plain = evaluateBoxes([1], cats.slice(0, 1), [gt(1, 1, A), gt(1, 1, crowd)], [...inCrowd, dt(1, 1, A, 0.9)]);
    expect(plain.ap50).toBeCloseTo((51 * (1 / 3)) / 101, 12);
  });

  it('keeps the 100 best detections per image and category', () => {
    const fps = (n: number) => Array.from({ length: n }, (_, i) => dt(1, 1, [500 + i, 500, 10, 10], 0.99 - i * 1e-4));
    // 99 false positives above the hit: the hit is 100th, precision 1/100 at every recall.
    expect(evaluateBoxes([1], cats.slice(0, 1), [gt(1, 1, A)], [...fps(99), dt(1, 1, A, 0.5)]).ap).toBeCloseTo(0.01, 12);
    // 100 above it: the hit is cut.
    expect(evaluateBoxes([1], cats.slice(0, 1), [gt(1, 1, A)], [...fps(100), dt(1, 1, A, 0.5)]).ap).toBe(0);
    // The cut is per category: another category's detections do not push it out.
    const other = fps(150).map((d) => ({ ...d, categoryId: 2 }));
    expect(evaluateBoxes([1], cats.slice(0, 1), [gt(1, 1, A)], [...other, dt(1, 1, A, 0.5)]).ap).toBeCloseTo(1, 12);
  });

  it('finds the score where F1 at IoU 0.5 peaks, over all categories, and cannot split tied scores', () => {
    const gts = [gt(1, 1, A), gt(1, 2, B), gt(2, 1, B)];
    // Top hit, top miss, bag hit, bag miss: F1 = 2/4, 2/5, 4/6, 4/7 after each; the third is best.
    const dts = [dt(1, 1, A, 0.9), dt(2, 1, far, 0.8), dt(1, 2, B, 0.7), dt(1, 2, far, 0.6)];
    const r = evaluateBoxes([1, 2], cats.slice(0, 2), gts, dts);
    expect(r.bestF1!.minScore).toBe(0.7);
    expect(r.bestF1!.f1).toBeCloseTo(2 / 3, 12);
    expect([r.bestF1!.precision, r.bestF1!.recall, r.bestF1!.detectionsPerImage]).toEqual([2 / 3, 2 / 3, 1.5]);
    // A miss scored like the bag hit: no threshold keeps one without the other, so 4/7 there; 2/4 at 0.9 is no better.
    const tied = evaluateBoxes([1, 2], cats.slice(0, 2), gts, [...dts, dt(2, 2, far, 0.7)]);
    expect(tied.bestF1!.minScore).toBe(0.7);
    expect(tied.bestF1!.f1).toBeCloseTo(4 / 7, 12);
    expect(tied.bestF1!.detectionsPerImage).toBe(2);
    expect(evaluateBoxes([1], cats.slice(0, 1), [gt(1, 1, A)], []).bestF1).toBeNull();
  });

  it('ranks detections across images by score', () => {
    // Image 1: a hit at 0.6; image 2: a false positive at 0.8 and a hit at 0.7. Order: FP, TP, TP.
    const r = evaluateBoxes([1, 2], cats.slice(0, 1), [gt(1, 1, A), gt(2, 1, B)], [dt(1, 1, A, 0.6), dt(2, 1, far, 0.8), dt(2, 1, B, 0.7)]);
    // rc 0, .5, 1; pr 0, .5, .667 -> envelope .667 everywhere.
    expect(r.ap).toBeCloseTo(2 / 3, 12);
  });
});

describe('matching predictions to ground truth', () => {
  const gtDoc = {
    images: [{ id: 1, file_name: 'a.jpg', width: 640, height: 480 }, { id: 2, file_name: 'sub/b.jpg', width: 640, height: 480 }],
    annotations: [
      { id: 1, image_id: 1, category_id: 1, bbox: A, area: 10000, iscrowd: 0 },
      { id: 2, image_id: 2, category_id: 2, bbox: B, area: 4000, iscrowd: 0 },
    ],
    categories: [{ id: 1, name: 'top' }, { id: 2, name: 'bag' }],
  };

  it('matches images by file name and categories by name, whatever the ids, and says what it could not match', () => {
    const pred = {
      images: [{ id: 7, file_name: 'sub/b.jpg' }, { id: 9, file_name: './a.jpg' }, { id: 3, file_name: 'c.jpg' }],
      annotations: [
        { image_id: 9, category_id: 20, bbox: A, score: 0.9 },
        { image_id: 7, category_id: 10, bbox: B, score: 0.8 },
        { image_id: 3, category_id: 10, bbox: B, score: 0.8 },
        { image_id: 9, category_id: 30, bbox: A, score: 0.7 },
      ],
      categories: [{ id: 10, name: 'bag' }, { id: 20, name: 'top' }, { id: 30, name: 'person' }],
    };
    const r = evaluateCoco(gtDoc, pred);
    expect(r.ap).toBeCloseTo(1, 12);
    expect(r.matching.imagesEvaluated).toBe(2);
    expect(r.matching.predImagesNotInGt).toEqual(['c.jpg']);
    expect(r.matching.predCategoriesNotInGt).toEqual([{ name: 'person', detections: 1 }]);
    expect(r.matching.detectionsIgnored).toBe(2);
  });

  it('matches a GT image to one predicted image only, even when two share its bare file name', () => {
    const pred = {
      images: [{ id: 1, file_name: 'x/a.jpg' }, { id: 2, file_name: 'y/a.jpg' }],
      annotations: [{ image_id: 1, category_id: 1, bbox: A, score: 0.9 }, { image_id: 2, category_id: 1, bbox: A, score: 0.8 }],
      categories: [{ id: 1, name: 'top' }],
    };
    const r = evaluateCoco(gtDoc, pred);
    expect(r.matching.predImagesDuplicated).toEqual(['y/a.jpg']);
    expect(r.perCategory[0].detectionCount).toBe(1);
    expect(r.ap).toBeCloseTo(1, 12);
  });

  it('evaluates only the GT images a prediction document lists; a category it lacks counts 0', () => {
    const pred = { images: [{ id: 1, file_name: 'a.jpg' }], annotations: [{ image_id: 1, category_id: 1, bbox: A, score: 0.9 }], categories: [{ id: 1, name: 'top' }] };
    const r = evaluateCoco(gtDoc, pred);
    expect(r.matching.gtImagesNotPredicted).toEqual(['sub/b.jpg']);
    expect(r.perCategory.find((c) => c.name === 'bag')!.ap).toBeNull(); // b.jpg left out, so bag has no GT
    const both = evaluateCoco(gtDoc, { ...pred, images: [...pred.images, { id: 2, file_name: 'sub/b.jpg' }] });
    expect(both.matching.gtCategoriesNotPredicted).toEqual(['bag']);
    expect(both.ap).toBeCloseTo(0.5, 12);
    expect(both.apSharedCategories).toBeCloseTo(1, 12);
  });

  it('takes a bare results array by image_id or by file name, over all GT images', () => {
    const r = evaluateCoco(gtDoc, [{ image_id: 1, category_id: 1, bbox: A, score: 0.9 }, { file_name: 'b.jpg', category_id: 2, bbox: B, score: 0.5 }]);
    expect(r.matching.imageScope).toBe('all');
    expect(r.ap).toBeCloseTo(1, 12);
    const missing = evaluateCoco(gtDoc, [{ image_id: 1, category_id: 1, bbox: A, score: 0.9 }, { image_id: 5, category_id: 2, bbox: B, score: 0.5 }]);
    expect(missing.ap).toBeCloseTo(0.5, 12); // sub/b.jpg has no detections: its bag is a miss
    expect(missing.matching.predImagesNotInGt).toEqual(['image_id 5']);
  });

  it('refuses bad files with the field at fault', () => {
    expect(() => evaluateCoco(gtDoc, { ...gtDoc })).toThrow(/annotations\.0\.score: .*ground-truth file/);
    expect(() => evaluateCoco(gtDoc, [{ image_id: 1, category_id: 1, bbox: [0, 0, -5, 5], score: 1 }])).toThrow(/0\.bbox\.2/);
    expect(() => evaluateCoco([], gtDoc)).toThrow(/ground truth must be a COCO document/);
    expect(() => evaluateCoco(gtDoc, { images: [{ id: 1, file_name: 'zzz.jpg' }], annotations: [], categories: gtDoc.categories })).toThrow(/none of the 1 predicted images is in the ground truth/);
  });
});
