import path from 'node:path';
import { modelTag } from '../models/manifest.js';
import { resolveModel, type ResolvedModel } from '../models/registry.js';
import type { TrainImage, TrainSet } from './dataset.js';
import type { CardInput } from './model-card.js';
import { modelBoxesOnPhotos } from './pseudo-boxes.js';
import { PSEUDO_BOX_RULES, readModelBoxes, readTagSet, taggedTrainImages, type ModelBox, type TagSet } from './tags.js';
import type { TrainOptions } from './types.js';

/** Tagged photos of a training, read and checked before anything runs. */
export interface TaggedPlan {
  tags: TagSet;
  /** The model's boxes from a file, or the model that will find them. */
  fileBoxes?: Map<string, ModelBox[]>;
  pseudoModel?: ResolvedModel;
}

export function planTagged(opts: TrainOptions, set: TrainSet, log: (line: string) => void): TaggedPlan | undefined {
  if (!opts.tags || !opts.tagImages) return undefined;
  const tags = readTagSet(opts.tags, opts.tagImages, set);
  for (const note of tags.notes) log(note);
  if (opts.pseudoLabels) return { tags, fileBoxes: readModelBoxes(opts.pseudoLabels, opts.tagImages) };
  return { tags, pseudoModel: resolveModel(opts.pseudoModel) };
}

export type TaggedInfo = NonNullable<CardInput['metrics']['data']['tagged']>;

/** The tagged photos as training photos, with the model's boxes kept for their tagged categories. */
export async function taggedTrainPhotos(
  plan: TaggedPlan,
  set: TrainSet,
  singleInstanceIds: readonly number[],
  out: string,
  opts: Pick<TrainOptions, 'tags' | 'pseudoLabels' | 'threads' | 'signal' | 'onProgress' | 'epochs'>,
  log: (line: string) => void,
): Promise<{ images: TrainImage[]; info: TaggedInfo }> {
  const files = plan.tags.photos.map((p) => p.file);
  const boxes =
    plan.fileBoxes ??
    (await modelBoxesOnPhotos(plan.pseudoModel!, files, out, {
      workers: opts.threads,
      signal: opts.signal,
      log,
      onProgress: (done, total, etaSeconds) => opts.onProgress?.({ phase: 'pseudo-boxes', epoch: 0, epochs: opts.epochs ?? 0, step: done, steps: total, etaSeconds: etaSeconds ?? undefined }),
    }));
  const singleInstance = new Set(singleInstanceIds.map((id) => set.categories.findIndex((c) => c.id === id)));
  const firstId = Math.max(0, ...set.images.map((i) => i.id)) + 1;
  const { images, pseudoBoxes } = taggedTrainImages(plan.tags, set, singleInstance, boxes, PSEUDO_BOX_RULES, firstId);
  const from = plan.pseudoModel ? modelTag(plan.pseudoModel.manifest) : path.basename(opts.pseudoLabels!);
  log(`${images.length} tagged photos train too, with ${pseudoBoxes} boxes of ${from} kept for their tagged categories`);
  const photosPerCategory = Object.fromEntries(set.categories.map((c, i) => [c.name, plan.tags.photos.filter((p) => p.classes.has(i)).length]));
  return { images, info: { tags: path.basename(opts.tags!), photos: images.length, pseudoBoxes, pseudoBoxesFrom: from, photosPerCategory, notes: plan.tags.notes } };
}
