import { Detector } from '../detect/detector.js';
import { AP_MIN_SCORE } from '../eval/coco-eval.js';
import { detectPhotos, evaluatePhotos, type EvalPhoto, type PhotoEvaluation } from '../eval/photo-eval.js';
import type { ResolvedModel } from '../models/registry.js';
import type { TrainSet } from './dataset.js';

/** Two models on the same held-back photos, per category (matched by name): the figures of a "which is better" table. */
export interface ModelComparison {
  photos: number;
  current: { id: string; ap50: number | null; ap: number | null };
  trained: { id: string; ap50: number | null; ap: number | null };
  perCategory: { name: string; boxes: number; currentAp50: number | null; trainedAp50: number | null; currentAp: number | null; trainedAp: number | null }[];
}

/** A model's detections on the photos through its own Detector, at the low score AP needs. */
async function evaluateModel(model: ResolvedModel, photos: readonly EvalPhoto[], categories: TrainSet['categories'], hooks: { signal?: AbortSignal; onPhoto: () => void }): Promise<PhotoEvaluation> {
  const detector = await Detector.load(model);
  try {
    // One Detector: the queue reads the next photo while it runs on this one.
    const pool = { workerCount: 1, detect: (file: string) => detector.detectFile(file, AP_MIN_SCORE) };
    const { detections } = await detectPhotos(pool, photos, { signal: hooks.signal, onProgress: hooks.onPhoto });
    return evaluatePhotos(photos, categories, detections, AP_MIN_SCORE);
  } finally {
    detector.dispose();
  }
}

/**
 * The model in use and the one just trained on the photos the training held back (`valFileNames` of
 * the set), both through the Detector. Categories the model in use does not know count with AP 0 for
 * it (it finds none of their boxes). Undefined when stopped by `signal` or when nothing was held back.
 */
export async function compareOnHeldBack(
  current: ResolvedModel,
  trained: ResolvedModel,
  set: TrainSet,
  valFileNames: readonly string[],
  hooks: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<ModelComparison | undefined> {
  const names = new Set(valFileNames);
  const photos: EvalPhoto[] = set.images.filter((i) => names.has(i.fileName)).map((i) => ({ id: i.id, file: i.file, boxes: i.boxes.map((b) => ({ categoryId: b.categoryId, bbox: b.bbox })) }));
  if (photos.length === 0) return undefined;
  let done = 0;
  const onPhoto = () => hooks.onProgress?.(++done, 2 * photos.length);
  const before = await evaluateModel(current, photos, set.categories, { signal: hooks.signal, onPhoto });
  if (hooks.signal?.aborted) return undefined;
  const after = await evaluateModel(trained, photos, set.categories, { signal: hooks.signal, onPhoto });
  if (hooks.signal?.aborted) return undefined;
  return {
    photos: photos.length,
    current: { id: current.manifest.id, ap50: before.ap50, ap: before.ap },
    trained: { id: trained.manifest.id, ap50: after.ap50, ap: after.ap },
    // The categories with boxes on the held-back photos: the others have no figures to compare.
    perCategory: set.categories
      .map((c, i) => ({
        name: c.name,
        boxes: after.perCategory[i].gtCount,
        currentAp50: before.perCategory[i].ap50,
        trainedAp50: after.perCategory[i].ap50,
        currentAp: before.perCategory[i].ap,
        trainedAp: after.perCategory[i].ap,
      }))
      .filter((c) => c.boxes > 0),
  };
}
