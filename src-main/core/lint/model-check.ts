// The optional check with a model: run the detector on each photo and list the boxes it would score
// very low for their category. Only with the photos at hand (lint --images), since it costs a
// detection per photo.
import path from 'node:path';
import { DetectorPool } from '../detect/detector-pool.js';
import type { ImageDetections } from '../detect/detector.js';
import { boxIou, type Box } from '../eval/coco-eval.js';
import { labelItems } from '../label/label-folder.js';
import type { ResolvedModel } from '../models/registry.js';
import type { LintCategory, LintPhoto, Problem } from './photos.js';
import { withArticle } from './words.js';

/** Detections are looked at from this score: anything the model half-sees counts as agreement. */
const LOOK_FROM_SCORE = 0.02;
/** A box the model finds nothing of its category over, at this overlap, is listed. */
const MATCH_IOU = 0.3;
/** Below this best score the model disagrees. */
export const LOW_MODEL_SCORE = 0.05;

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

/** The boxes of one photo the model scores below LOW_MODEL_SCORE where they are (`modelIdOf`: file category id to model category id). */
function disagreementsOn(photo: LintPhoto, result: ImageDetections, modelIdOf: ReadonlyMap<number, number>, nameOf: ReadonlyMap<number, string>, modelId: string): Problem[] {
  // The file may be another size than the COCO file says (a resized copy): compare in its pixels.
  const sx = result.width / photo.width;
  const sy = result.height / photo.height;
  const problems: Problem[] = [];
  for (const box of photo.boxes) {
    const category = modelIdOf.get(box.categoryId);
    if (category === undefined) continue;
    const scaled: Box = [box.bbox[0] * sx, box.bbox[1] * sy, box.bbox[2] * sx, box.bbox[3] * sy];
    const best = Math.max(0, ...result.detections.filter((d) => d.categoryId === category && boxIou(d.bbox, scaled, false) >= MATCH_IOU).map((d) => d.score));
    if (best >= LOW_MODEL_SCORE) continue;
    const name = nameOf.get(box.categoryId) ?? `category ${box.categoryId}`;
    problems.push({
      boxId: box.id,
      photoId: photo.id ?? null,
      photo: photo.name,
      kind: 'model-disagrees',
      message: `the model ${modelId} scores ${withArticle(name)} here at ${best.toFixed(2)} at most`,
      score: -Math.log10(Math.max(best, 0.001)),
    });
  }
  return problems;
}

/**
 * Boxes of categories the model knows (by name) that it scores below LOW_MODEL_SCORE where they are.
 * The photos go through the one labelling queue, a few per worker at a time, so a stop (`signal`)
 * takes effect within a photo or two and what was found so far is returned.
 */
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
  try {
    await labelItems(pool, todo, (photo) => path.resolve(options.imagesDir, photo.name), {
      signal: options.signal,
      onResult: (photo, result) => problems.push(...disagreementsOn(photo, result, modelIdOf, nameOf, options.model.manifest.id)),
      onFailure: (photo, reason) => unreadable.push({ name: photo.name, reason }),
      onProgress: (batch) => options.onProgress?.(batch.done + batch.failed, batch.total),
    });
  } finally {
    await pool.close();
  }
  return { problems, unreadable: unreadable.sort((a, b) => (a.name < b.name ? -1 : 1)), unknownCategories };
}
