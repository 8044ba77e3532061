import type { Candidate } from './candidate.js';

/**
 * Which layout an output of this shape has. The declared variant unless the shape only fits the other:
 * an Ultralytics export whose model.json does not give its output shape is told 'v8' and corrected
 * here at its first run. A shape that fits neither is an error, not boxes made of noise.
 */
export function yoloLayout(shape: number[], numClasses: number, declared: 'v5' | 'v8'): 'v5' | 'v8' {
  const fitsV8 = shape.length === 3 && shape[1] === 4 + numClasses;
  const fitsV5 = shape.length === 3 && shape[2] === 5 + numClasses;
  if ((declared === 'v8' && fitsV8) || (declared === 'v5' && fitsV5)) return declared;
  if (fitsV8) return 'v8';
  if (fitsV5) return 'v5';
  throw new Error(
    `the model's output [${shape.join(', ')}] fits neither [1, 4 + ${numClasses}, N] (YOLOv8, v11) nor [1, N, 5 + ${numClasses}] (YOLOv5) for its ${numClasses} classes; do the class names belong to this model?`,
  );
}

/**
 * Ultralytics YOLO heads exported to tfjs. v8 and v11: [1, 4 + nc, N], rows cx, cy, w, h, then class
 * scores. v5: [1, N, 5 + nc], per row cx, cy, w, h, objectness, class scores (score = obj x class).
 * Coordinates are in input pixels (or 0..1, which `normalised` detects and scales).
 */
export function decodeYolo(
  data: Float32Array,
  shape: number[],
  variant: 'v5' | 'v8',
  numClasses: number,
  minScore: number,
  wantedClasses: ReadonlySet<number>,
  inputWidth: number,
  inputHeight: number,
): Candidate[] {
  const out: Candidate[] = [];
  const v8 = yoloLayout(shape, numClasses, variant) === 'v8';
  const n = v8 ? shape[2] : shape[1];
  const rowLen = v8 ? shape[1] : shape[2];
  const at = v8 ? (i: number, f: number) => data[f * n + i] : (i: number, f: number) => data[i * rowLen + f];
  const first = v8 ? 4 : 5;
  let maxCoord = 0;
  for (let i = 0; i < Math.min(n, 64); i++) maxCoord = Math.max(maxCoord, at(i, 0), at(i, 1));
  const normalised = maxCoord <= 1.5;
  const sx = normalised ? inputWidth : 1;
  const sy = normalised ? inputHeight : 1;
  for (let i = 0; i < n; i++) {
    const objectness = v8 ? 1 : at(i, 4);
    if (objectness < minScore) continue;
    for (const c of wantedClasses) {
      if (c >= numClasses) continue;
      const s = objectness * at(i, first + c);
      if (s < minScore) continue;
      const cx = at(i, 0) * sx;
      const cy = at(i, 1) * sy;
      const w = at(i, 2) * sx;
      const h = at(i, 3) * sy;
      const x1 = Math.max(0, cx - w / 2);
      const y1 = Math.max(0, cy - h / 2);
      const x2 = Math.min(inputWidth, cx + w / 2);
      const y2 = Math.min(inputHeight, cy + h / 2);
      if (x2 > x1 && y2 > y1) out.push({ x1, y1, x2, y2, score: s, classIndex: c });
    }
  }
  return out;
}
