import { describe, expect, it } from 'vitest';
import { boxToInput, boxToSource, letterboxFor } from '../../src-main/core/images/letterbox';
import { decodeNanodet } from '../../src-main/core/models/decode-nanodet';
import { classwiseNms, iou, MERGE_SCORE_FLOOR, type Candidate } from '../../src-main/core/detect/nms';

describe('letterbox', () => {
  it('fits a portrait photo into a square input with padding right and bottom only', () => {
    const box = letterboxFor(550, 832, 416, 416);
    expect(box.scale).toBeCloseTo(416 / 832, 10);
    expect([box.scaledWidth, box.scaledHeight]).toEqual([275, 416]);
  });

  it('maps boxes to the input and back to the same source pixels', () => {
    for (const [w, h] of [[550, 832], [4000, 3000], [17, 1200], [416, 416]] as const) {
      const box = letterboxFor(w, h, 416, 416);
      const original = [w * 0.1, h * 0.2, w * 0.3, h * 0.5];
      const [x1, y1, x2, y2] = boxToInput(box, original[0], original[1], original[2], original[3]);
      expect(x2).toBeLessThanOrEqual(box.scaledWidth + 1e-9);
      const back = boxToSource(box, x1, y1, x2, y2);
      back.forEach((v, i) => expect(v).toBeCloseTo(original[i], 6));
    }
  });

  it('clips boxes that reach into the padding to the picture', () => {
    const box = letterboxFor(550, 832, 416, 416);
    const [x, y, w, h] = boxToSource(box, 200, 300, 400, 430);
    expect(x + w).toBeCloseTo(550, 6);
    expect(y + h).toBeCloseTo(832, 6);
    expect(x).toBeCloseTo(200 * (550 / 275), 6);
  });
});

describe('non-maximum suppression', () => {
  const c = (x1: number, y1: number, x2: number, y2: number, score: number, classIndex = 0): Candidate => ({ x1, y1, x2, y2, score, classIndex });

  it('computes IoU', () => {
    expect(iou(c(0, 0, 10, 10, 1), c(0, 0, 10, 10, 1))).toBe(1);
    expect(iou(c(0, 0, 10, 10, 1), c(5, 0, 15, 10, 1))).toBeCloseTo(50 / 150, 10);
    expect(iou(c(0, 0, 10, 10, 1), c(10, 0, 20, 10, 1))).toBe(0);
  });

  it('keeps the best of overlapping boxes of one class, and overlapping boxes of different classes', () => {
    const kept = classwiseNms(
      [c(0, 0, 10, 10, 0.5), c(1, 0, 11, 10, 0.9), c(0, 0, 10, 10, 0.7, 1), c(50, 50, 60, 60, 0.3)],
      0.5,
    );
    expect(kept.map((k) => [k.score, k.classIndex])).toEqual([[0.9, 0], [0.7, 1], [0.3, 0]]);
  });

  it('keeps boxes at exactly the threshold and caps the count', () => {
    // IoU of these two is exactly 1/3.
    expect(classwiseNms([c(0, 0, 10, 10, 0.9), c(5, 0, 15, 10, 0.8)], 1 / 3)).toHaveLength(2);
    const many = Array.from({ length: 20 }, (_, i) => c(i * 20, 0, i * 20 + 10, 10, 1 - i / 100));
    expect(classwiseNms(many, 0.5, { maxKeep: 7 })).toHaveLength(7);
  });

  it('scores down a box nested in a better one of its class, and moves it behind the others', () => {
    // One shoe (IoU 0.45 with the box around both shoes), a bag that is not nested, and another class.
    const bothShoes = c(0, 0, 20, 10, 0.8);
    const oneShoe = c(0, 0, 9, 10, 0.7);
    const bag = c(30, 0, 40, 10, 0.5);
    const otherClassInside = c(0, 0, 9, 10, 0.6, 1);
    const kept = classwiseNms([bothShoes, oneShoe, bag, otherClassInside], 0.6);
    expect(kept.map((k) => [k.x2, k.score, k.classIndex])).toEqual([[20, 0.8, 0], [9, 0.6, 1], [40, 0.5, 0], [9, 0.35, 0]]);
    // Enclosing a better box counts as nested too; a box only partly inside (70%) does not.
    expect(classwiseNms([oneShoe, c(0, 0, 30, 10, 0.65)], 0.6).map((k) => k.score)).toEqual([0.7, 0.325]);
    expect(classwiseNms([oneShoe, c(3, 0, 13, 10, 0.65)], 0.9).map((k) => k.score)).toEqual([0.7, 0.65]);
    expect(classwiseNms([bothShoes, oneShoe], 0.6, { nestedScoreFactor: 1 }).map((k) => k.score)).toEqual([0.8, 0.7]);
    // Scored down below the minimum score: dropped, as the decoder drops such boxes to begin with.
    expect(classwiseNms([bothShoes, oneShoe, bag], 0.6, { minScore: 0.4 }).map((k) => k.score)).toEqual([0.8, 0.5]);
    // The cut comes after scoring down: the bag, scored below the shoe, outranks it in the end.
    expect(classwiseNms([bothShoes, oneShoe, bag], 0.6, { maxKeep: 2 }).map((k) => k.score)).toEqual([0.8, 0.5]);
  });

  it('scores down the boxes after the best of a class labelled once per photo, not those of other classes', () => {
    // Two trouser boxes that barely overlap (one leg each), two shoes apart, a top.
    const leftLeg = c(0, 0, 10, 40, 0.8, 2);
    const rightLeg = c(8, 0, 18, 40, 0.6, 2);
    const shoes = [c(0, 40, 8, 45, 0.7, 6), c(10, 40, 18, 45, 0.65, 6)];
    const top = c(0, -30, 20, 0, 0.9, 0);
    const once = new Set([0, 2]);
    const kept = classwiseNms([leftLeg, rightLeg, ...shoes, top], 0.6, { singleInstanceClasses: once });
    expect(kept.map((k) => [k.classIndex, k.score])).toEqual([[0, 0.9], [2, 0.8], [6, 0.7], [6, 0.65], [2, 0.3]]);
    // Without the rule plain NMS keeps both legs as they were; a factor of its own can be given.
    expect(classwiseNms([leftLeg, rightLeg], 0.6).map((k) => k.score)).toEqual([0.8, 0.6]);
    expect(classwiseNms([leftLeg, rightLeg], 0.6, { singleInstanceClasses: once, extraInstanceScoreFactor: 0.1 }).map((k) => k.score)).toEqual([0.8, 0.06]);
    // Nested as well: both factors.
    expect(classwiseNms([leftLeg, c(0, 0, 5, 40, 0.7, 2)], 0.6, { singleInstanceClasses: once }).map((k) => k.score)).toEqual([0.8, 0.175]);
  });

  it('weighted NMS: averages into the kept box the boxes it suppresses at mergeIou or more, weighted by score', () => {
    const best = c(0, 0, 100, 100, 0.6);
    const close = c(10, 0, 110, 100, 0.3); // IoU 0.82 with best
    const looser = c(0, 0, 100, 140, 0.5); // IoU 0.71: suppressed (over 0.6) but not averaged in at 0.75
    const faint = c(0, 10, 100, 110, 0.04); // IoU 0.82, under MERGE_SCORE_FLOOR
    const other = c(10, 0, 110, 100, 0.5, 1); // another class: never averaged in
    const [merged, ...rest] = classwiseNms([best, close, looser, faint, other], 0.6, { mergeIou: 0.75 });
    [merged.x1, merged.y1, merged.x2, merged.y2, merged.score].forEach((v, i) => expect(v).toBeCloseTo([10 / 3, 0, 100 + 10 / 3, 100, 0.6][i], 10));
    expect(rest.map((k) => [k.x1, k.classIndex])).toEqual([[10, 1]]);
    // Without mergeIou: plain NMS, the kept box as it was.
    expect(classwiseNms([best, close, looser, faint], 0.6)[0]).toEqual(best);
    // The floor is the same whatever the minimum score: a box is placed alike at 0.01 and 0.5.
    expect(classwiseNms([best, close, faint], 0.6, { mergeIou: 0.75, minScore: 0.01 })).toEqual(classwiseNms([best, close, faint], 0.6, { mergeIou: 0.75, minScore: 0.5 }));
    expect(MERGE_SCORE_FLOOR).toBe(0.05);
  });
});

describe('NanoDet decoding', () => {
  /** One level, one cell lit: distance logits peaked at chosen bins give a box we can compute by hand. */
  it('decodes distances as the softmax expectation times the stride from the cell centre', () => {
    const stride = 16;
    const cols = 4;
    const rows = 3;
    const classes = 2;
    const bins = 8;
    const scores = new Float32Array(rows * cols * classes);
    const distances = new Float32Array(rows * cols * 4 * bins);
    const cell = 1 * cols + 2; // row 1, col 2: centre (40, 24)
    scores[cell * classes + 1] = 0.8;
    // left: one sharp bin 2; top: bins 1 and 3 equal (expectation 2); right: bin 0; bottom: bin 5.
    const sharpBin = (side: number, bin: number) => (distances[cell * 4 * bins + side * bins + bin] = 50);
    for (let b = 0; b < bins; b++) for (let s = 0; s < 4; s++) distances[cell * 4 * bins + s * bins + b] = -50;
    sharpBin(0, 2);
    sharpBin(1, 1);
    sharpBin(1, 3);
    sharpBin(2, 0);
    sharpBin(3, 5);
    const out = decodeNanodet([{ stride, cols, rows, scores, distances }], classes, bins, 0.5, new Set([0, 1]), 64, 48);
    expect(out).toHaveLength(1);
    const [d] = out;
    expect(d.classIndex).toBe(1);
    expect(d.score).toBeCloseTo(0.8, 6);
    expect(d.x1).toBeCloseTo(40 - 2 * 16, 4);
    expect(d.y1).toBe(0); // 24 - 2 * 16 = -8, clipped to the input
    expect(d.x2).toBeCloseTo(40, 4);
    expect(d.y2).toBeCloseTo(Math.min(48, 24 + 5 * 16), 4);
  });

  it('skips classes that are not wanted and cells below the score', () => {
    const scores = new Float32Array([0.9, 0.1]);
    const distances = new Float32Array(4 * 2);
    expect(decodeNanodet([{ stride: 8, cols: 1, rows: 1, scores, distances }], 2, 2, 0.5, new Set([1]), 8, 8)).toHaveLength(0);
    expect(decodeNanodet([{ stride: 8, cols: 1, rows: 1, scores, distances }], 2, 2, 0.5, new Set([0]), 8, 8)).toHaveLength(1);
  });
});
