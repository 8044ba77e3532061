import type { Detection } from '../detect/output-decoder.js';
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
 * Runs `detect` on each photo, one after the other (the pool behind it runs them in parallel where
 * it can: a few are sent at once). Stops early when `signal` aborts; photos that fail are left out
 * (returned in `failed`, with the reason).
 */
export async function detectPhotos(
  photos: readonly EvalPhoto[],
  detect: (file: string) => Promise<readonly Detection[]>,
  hooks: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void; inFlight?: number } = {},
): Promise<{ detections: Map<number, readonly Detection[]>; failed: { file: string; reason: string }[] }> {
  const detections = new Map<number, readonly Detection[]>();
  const failed: { file: string; reason: string }[] = [];
  let next = 0;
  let done = 0;
  const runner = async () => {
    while (next < photos.length && !hooks.signal?.aborted) {
      const photo = photos[next++];
      try {
        detections.set(photo.id, await detect(photo.file));
      } catch (err) {
        failed.push({ file: photo.file, reason: (err as Error).message });
      }
      hooks.onProgress?.(++done, photos.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, hooks.inFlight ?? 1) }, runner));
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
