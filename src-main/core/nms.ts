/** A candidate box in [x1, y1, x2, y2] corners, before suppression. */
export interface Candidate {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classIndex: number;
}

export function iou(a: Candidate, b: Candidate): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy non-maximum suppression within each class: a box is dropped when it overlaps a higher-scoring
 * box of the same class by more than `iouThreshold`. Returns the kept boxes, best first, at most `maxKeep`.
 */
export function classwiseNms(candidates: Candidate[], iouThreshold: number, maxKeep = 100): Candidate[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const keptByClass = new Map<number, Candidate[]>();
  const kept: Candidate[] = [];
  for (const c of sorted) {
    const same = keptByClass.get(c.classIndex) ?? [];
    if (same.some((k) => iou(k, c) > iouThreshold)) continue;
    same.push(c);
    keptByClass.set(c.classIndex, same);
    kept.push(c);
    if (kept.length >= maxKeep) break;
  }
  return kept;
}
