import type { Candidate } from './candidate.js';

/** One level of NanoDet's output: per cell, class scores and 4 x `bins` distance logits. */
export interface NanodetLevel {
  stride: number;
  cols: number;
  rows: number;
  scores: Float32Array; // [rows * cols, numClasses], already sigmoid-activated unless `sigmoid` is set
  distances: Float32Array; // [rows * cols, 4 * bins], order left, top, right, bottom
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Generalised Focal Loss decoding: each side's distance is the expected value of a softmax over
 * `bins` bins, times the stride, from the cell centre at ((col + 0.5) * stride, (row + 0.5) * stride).
 * Only classes in `wantedClasses` are decoded. Boxes are in model input pixels, clipped to it.
 */
export function decodeNanodet(
  levels: NanodetLevel[],
  numClasses: number,
  bins: number,
  minScore: number,
  wantedClasses: ReadonlySet<number>,
  inputWidth: number,
  inputHeight: number,
  applySigmoid = false,
): Candidate[] {
  const out: Candidate[] = [];
  const side = new Float64Array(4);
  for (const level of levels) {
    const cells = level.rows * level.cols;
    for (let cell = 0; cell < cells; cell++) {
      const base = cell * numClasses;
      let hasCandidate = false;
      for (const c of wantedClasses) {
        const s = applySigmoid ? sigmoid(level.scores[base + c]) : level.scores[base + c];
        if (s >= minScore) {
          hasCandidate = true;
          break;
        }
      }
      if (!hasCandidate) continue;
      const distBase = cell * 4 * bins;
      for (let k = 0; k < 4; k++) {
        const o = distBase + k * bins;
        let max = -Infinity;
        for (let b = 0; b < bins; b++) max = Math.max(max, level.distances[o + b]);
        let sum = 0;
        let expected = 0;
        for (let b = 0; b < bins; b++) {
          const e = Math.exp(level.distances[o + b] - max);
          sum += e;
          expected += e * b;
        }
        side[k] = (expected / sum) * level.stride;
      }
      const cx = ((cell % level.cols) + 0.5) * level.stride;
      const cy = (Math.floor(cell / level.cols) + 0.5) * level.stride;
      const x1 = Math.max(0, cx - side[0]);
      const y1 = Math.max(0, cy - side[1]);
      const x2 = Math.min(inputWidth, cx + side[2]);
      const y2 = Math.min(inputHeight, cy + side[3]);
      if (x2 <= x1 || y2 <= y1) continue;
      for (const c of wantedClasses) {
        const s = applySigmoid ? sigmoid(level.scores[base + c]) : level.scores[base + c];
        if (s >= minScore) out.push({ x1, y1, x2, y2, score: s, classIndex: c });
      }
    }
  }
  return out;
}
