import type { Detection } from '../detect/output-decoder.js';
import { labelItems } from '../label/label-folder.js';
import type { LabelPool } from '../label/label-queue.js';
import { countsAtScore, type ScoreCounts } from './at-score.js';
import { evaluateBoxes, type CocoEvalResult, type DetBox, type GtBox } from './coco-eval.js';

// A model measured on photos whose true boxes a person gave: its detections (at a low score, so AP
// sees the whole curve) matched to the photos' categories by name, evaluated as pycocotools does,
// and counted at the score a person looks at.

/** A photo with its true boxes, in the ids of the categories it is evaluated on. */
export interface EvalPhoto {
  id: number;
  file: string;
  boxes: { categoryId: number; bbox: readonly [number, number, number, number] }[];
}

export interface EvalCategory {
  id: number;
  name: string;
}

export type PhotoEvaluation = Omit<CocoEvalResult, 'matching' | 'apSharedCategories'> & {
  /** Precision and recall at the minimum score asked for. */
  atScore: { minScore: number; perCategory: Map<number, ScoreCounts>; overall: ScoreCounts };
};

/**
 * Runs the pool on each photo through the one labelling queue (labelItems: a few photos per worker at
 * a time). Stops early when `signal` aborts; photos that fail are left out (returned in `failed`, with
 * the reason).
 */
export async function detectPhotos(
  pool: LabelPool,
  photos: readonly EvalPhoto[],
  hooks: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ detections: Map<number, readonly Detection[]>; failed: { file: string; reason: string }[] }> {
  const detections = new Map<number, readonly Detection[]>();
  const failed: { file: string; reason: string }[] = [];
  await labelItems(pool, photos, (photo) => photo.file, {
    signal: hooks.signal,
    onResult: (photo, result) => detections.set(photo.id, result.detections),
    onFailure: (photo, reason) => failed.push({ file: photo.file, reason }),
    onProgress: (batch) => hooks.onProgress?.(batch.done + batch.failed, batch.total),
  });
  return { detections, failed };
}

/** The evaluation of detections on the photos that have them; detections of categories not in `categories` (by name, case aside) are left out. */
export function evaluatePhotos(photos: readonly EvalPhoto[], categories: readonly EvalCategory[], detections: ReadonlyMap<number, readonly Detection[]>, minScore: number): PhotoEvaluation {
  const byName = new Map(categories.map((c) => [c.name.toLowerCase(), c.id]));
  const evaluated = photos.filter((p) => detections.has(p.id));
  const imageIds = evaluated.map((p) => p.id).sort((a, b) => a - b);
  const gts: GtBox[] = evaluated.flatMap((p) => p.boxes.map((b) => ({ imageId: p.id, categoryId: b.categoryId, bbox: b.bbox })));
  const dts: DetBox[] = [];
  for (const p of evaluated) {
    for (const d of detections.get(p.id)!) {
      const categoryId = byName.get(d.category.toLowerCase());
      if (categoryId !== undefined) dts.push({ imageId: p.id, categoryId, bbox: d.bbox, score: d.score });
    }
  }
  const result = evaluateBoxes(imageIds, categories, gts, dts);
  return { ...result, atScore: { minScore, ...countsAtScore(imageIds, categories, gts, dts, minScore) } };
}
