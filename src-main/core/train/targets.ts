import { boxToInput } from '../images/letterbox.js';
import type { TrainImage } from './dataset.js';
import type { FeatureSample } from './features.js';

/**
 * Which head cells learn which box (FCOS-style assignment with centre sampling): a cell of level
 * `stride` is positive for a box when its centre lies inside the box, within `radius` strides of the
 * box centre, and the box's largest centre-to-side distance from the cell falls in the level's range.
 * A cell inside several boxes takes the smallest. A box that wins no cell (very small, or between
 * centres) gets the cell nearest its centre on the level its size calls for, so none is left unlearned.
 */

export interface Level {
  stride: number;
  cols: number;
  rows: number;
}

/** A box in model input pixels, [x1, y1, x2, y2], and its class index. */
export interface TargetBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  classIndex: number;
}

/** The positive cells of one picture: global cell index (levels in order, row-major), class, distances in strides. */
export interface Targets {
  cells: Int32Array;
  classes: Int32Array;
  /** 4 per positive: left, top, right, bottom, in units of the cell's stride, clipped to bins - 1. */
  distances: Float32Array;
  /**
   * Per class, how much the cells that are not positive count as negatives in this picture: 1 for a
   * boxed photo; for a tagged photo 1 for a category it is not tagged with (absent everywhere) and 0
   * for one it is tagged with (its unboxed items are unknown). Absent: 1 for every class.
   */
  negativeWeights?: Float32Array;
  /** Per class, 1 where the photo holds it (its boxes, its tags), for the photo-level presence loss (presence.ts). */
  present?: Float32Array;
}

export function pyramidLevels(width: number, height: number, strides: readonly number[]): Level[] {
  return strides.map((stride) => ({ stride, cols: Math.ceil(width / stride), rows: Math.ceil(height / stride) }));
}

export function cellCount(levels: readonly Level[]): number {
  return levels.reduce((n, l) => n + l.cols * l.rows, 0);
}

export function assignTargets(boxes: readonly TargetBox[], levels: readonly Level[], bins: number, radius = 2.5): Targets {
  const total = cellCount(levels);
  const owner = new Int32Array(total).fill(-1);
  const ownerArea = new Float64Array(total).fill(Infinity);
  // Level ranges on the largest side distance: up to (bins - 1) strides, so a distance fits the bins.
  const upper = levels.map((l, i) => (i === levels.length - 1 ? Infinity : (bins - 1) * l.stride));
  const lower = levels.map((_, i) => (i === 0 ? 0 : upper[i - 1]));
  const offsets: number[] = [];
  levels.reduce((o, l) => (offsets.push(o), o + l.cols * l.rows), 0);

  boxes.forEach((box, boxIndex) => {
    const area = (box.x2 - box.x1) * (box.y2 - box.y1);
    const cx = (box.x1 + box.x2) / 2;
    const cy = (box.y1 + box.y2) / 2;
    let won = false;
    levels.forEach((level, li) => {
      const s = level.stride;
      const r = radius * s;
      const colFrom = Math.max(0, Math.floor(Math.max(box.x1, cx - r) / s - 0.5));
      const colTo = Math.min(level.cols - 1, Math.ceil(Math.min(box.x2, cx + r) / s - 0.5));
      const rowFrom = Math.max(0, Math.floor(Math.max(box.y1, cy - r) / s - 0.5));
      const rowTo = Math.min(level.rows - 1, Math.ceil(Math.min(box.y2, cy + r) / s - 0.5));
      for (let row = rowFrom; row <= rowTo; row++) {
        const py = (row + 0.5) * s;
        if (py <= box.y1 || py >= box.y2 || Math.abs(py - cy) > r) continue;
        for (let col = colFrom; col <= colTo; col++) {
          const px = (col + 0.5) * s;
          if (px <= box.x1 || px >= box.x2 || Math.abs(px - cx) > r) continue;
          const far = Math.max(px - box.x1, py - box.y1, box.x2 - px, box.y2 - py);
          if (far <= lower[li] || far > upper[li]) continue;
          const cell = offsets[li] + row * level.cols + col;
          if (area < ownerArea[cell]) {
            owner[cell] = boxIndex;
            ownerArea[cell] = area;
          }
          won = true;
        }
      }
    });
    if (!won) {
      const half = Math.max(box.x2 - box.x1, box.y2 - box.y1) / 2;
      let li = levels.findIndex((_, i) => half <= upper[i]);
      if (li < 0) li = levels.length - 1;
      const level = levels[li];
      const col = Math.min(level.cols - 1, Math.max(0, Math.floor(cx / level.stride)));
      const row = Math.min(level.rows - 1, Math.max(0, Math.floor(cy / level.stride)));
      const cell = offsets[li] + row * level.cols + col;
      if (area < ownerArea[cell]) {
        owner[cell] = boxIndex;
        ownerArea[cell] = area;
      }
    }
  });

  const cells: number[] = [];
  for (let i = 0; i < total; i++) if (owner[i] >= 0) cells.push(i);
  const classes = new Int32Array(cells.length);
  const distances = new Float32Array(cells.length * 4);
  const maxDistance = bins - 1 - 0.01;
  cells.forEach((cell, k) => {
    let li = 0;
    while (li + 1 < levels.length && cell >= offsets[li + 1]) li++;
    const level = levels[li];
    const local = cell - offsets[li];
    const s = level.stride;
    const px = ((local % level.cols) + 0.5) * s;
    const py = (Math.floor(local / level.cols) + 0.5) * s;
    const box = boxes[owner[cell]];
    classes[k] = box.classIndex;
    const sides = [px - box.x1, py - box.y1, box.x2 - px, box.y2 - py];
    // A fallback cell may lie just outside its box: distances are kept at zero or more.
    sides.forEach((d, j) => (distances[k * 4 + j] = Math.min(maxDistance, Math.max(0, d / s))));
  });
  return { cells: Int32Array.from(cells), classes, distances };
}

/** The targets of a photo as a sample shows it: its boxes in model input pixels, mirrored with the photo when it is. */
export function photoTargets(image: TrainImage, sample: FeatureSample, levels: Level[], bins: number): Targets {
  const box = sample.box;
  const boxes = image.boxes.map((b) => {
    let [x1, y1, x2, y2] = boxToInput(box, b.bbox[0], b.bbox[1], b.bbox[2], b.bbox[3]);
    if (sample.flipped) [x1, x2] = [box.scaledWidth - x2, box.scaledWidth - x1];
    return { x1, y1, x2, y2, classIndex: b.classIndex };
  });
  const targets = assignTargets(boxes, levels, bins);
  return image.negativeWeights ? { ...targets, negativeWeights: image.negativeWeights } : targets;
}
