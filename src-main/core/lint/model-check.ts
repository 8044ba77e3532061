// The optional check with a model: run the detector on each photo and list the boxes it would score
// very low for their category. Only with the photos at hand (lint --images), since it costs a
// detection per photo.
import path from 'node:path';
import { FileProblem } from '../base/errors.js';
import { DetectorPool } from '../detect/detector-pool.js';
import type { ResolvedModel } from '../models/registry.js';
import type { LintCategory, LintPhoto, Problem } from './photos.js';
import { withArticle } from './words.js';

/** Detections are looked at from this score: anything the model half-sees counts as agreement. */
const LOOK_FROM_SCORE = 0.02;
/** A box the model finds nothing of its category over, at this overlap, is listed. */
const MATCH_IOU = 0.3;
/** Below this best score the model disagrees. */
export const LOW_MODEL_SCORE = 0.05;

function iou(a: readonly number[], b: readonly number[]): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a[2] * a[3] + b[2] * b[3] - w * h);
}

export interface ModelCheckOptions {
  imagesDir: string;
  model: ResolvedModel;
  workers?: number;
  signal?: AbortSignal;
  /** The number of photos the model will run on (those with boxes of categories it knows). */
  onStart?: (total: number) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface ModelCheckResult {
  problems: Problem[];
  /** Photos that could not be read. */
  unreadable: { name: string; reason: string }[];
  /** Categories of the file the model does not know (matched by name), so not checked. */
  unknownCategories: string[];
}

/** Boxes of categories the model knows (by name) that it scores below LOW_MODEL_SCORE where they are. */
export async function modelDisagreements(photos: readonly LintPhoto[], categories: readonly LintCategory[], options: ModelCheckOptions): Promise<ModelCheckResult> {
  const modelIdByName = new Map(options.model.manifest.categories.map((c) => [c.name.toLowerCase(), c.id]));
  const modelIdOf = new Map<number, number>();
  const unknownCategories: string[] = [];
  for (const c of categories) {
    const id = modelIdByName.get(c.name.toLowerCase());
    if (id === undefined) unknownCategories.push(c.name);
    else modelIdOf.set(c.id, id);
  }
  const nameOf = new Map(categories.map((c) => [c.id, c.name]));
  const todo = photos.filter((p) => p.boxes.some((b) => modelIdOf.has(b.categoryId)));
  const problems: Problem[] = [];
  const unreadable: ModelCheckResult['unreadable'] = [];
  options.onStart?.(todo.length);
  if (todo.length === 0) return { problems, unreadable, unknownCategories };
  const pool = await DetectorPool.start(options.model, { workers: options.workers, minScore: LOOK_FROM_SCORE });
  let done = 0;
  try {
    await Promise.all(
      todo.map(async (photo) => {
        if (options.signal?.aborted) return;
        try {
          const result = await pool.detect(path.resolve(options.imagesDir, photo.name));
          // The file may be another size than the COCO file says (a resized copy): compare in its pixels.
          const sx = result.width / photo.width;
          const sy = result.height / photo.height;
          for (const box of photo.boxes) {
            const modelId = modelIdOf.get(box.categoryId);
            if (modelId === undefined) continue;
            const scaled = [box.bbox[0] * sx, box.bbox[1] * sy, box.bbox[2] * sx, box.bbox[3] * sy];
            const best = Math.max(0, ...result.detections.filter((d) => d.categoryId === modelId && iou(d.bbox, scaled) >= MATCH_IOU).map((d) => d.score));
            if (best >= LOW_MODEL_SCORE) continue;
            const name = nameOf.get(box.categoryId) ?? `category ${box.categoryId}`;
            problems.push({
              boxId: box.id,
              photoId: photo.id ?? null,
              photo: photo.name,
              kind: 'model-disagrees',
              message: `the model ${options.model.manifest.id} scores ${withArticle(name)} here at ${best.toFixed(2)} at most`,
              score: -Math.log10(Math.max(best, 0.001)),
            });
          }
        } catch (err) {
          unreadable.push({ name: photo.name, reason: err instanceof FileProblem ? err.reason : (err as Error).message });
        } finally {
          options.onProgress?.(++done, todo.length);
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return { problems, unreadable: unreadable.sort((a, b) => (a.name < b.name ? -1 : 1)), unknownCategories };
}
