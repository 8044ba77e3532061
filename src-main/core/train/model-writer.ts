import path from 'node:path';
import { writeFileAtomic } from '../base/atomic-write.js';
import { MERGE_IOU } from '../detect/nms.js';
import { NANODET_FPN, type BaseSpec } from '../models/fpn-base.js';
import type { HeadParams, HeadShape } from '../models/fpn-head.js';
import type { ModelManifest } from '../models/manifest.js';
import type { PoseModel } from '../models/pose.js';
import type { ResolvedModel } from '../models/registry.js';
import type { TrainSet } from './dataset.js';
import { removeCheckpoint } from './checkpoint.js';
import { saveHead } from './head-weights.js';
import { writeModelCard, type CardInput } from './model-card.js';
import { BINS, modelId, type Settings } from './settings.js';
import type { TrainOptions, ValidationResult } from './types.js';
import { defaultMinScoreFrom } from './validate.js';

/** The head's files in the model folder: head.json and head.bin. */
const HEAD_NAME = 'head';
/** Boxes of one category overlapping more than this are suppressed, as NanoDet does. */
const IOU_THRESHOLD = 0.6;

/** The manifest of the model being trained, but for what only the end knows: its weights' hashes and default score. */
export type ModelDescription = Omit<ModelManifest, 'weights' | 'defaultMinScore'>;

export type TrainingMetrics = CardInput['metrics'] & { data: { annotationsSha256: string }; settings: Settings };

/** What the model will be: known before training, so validation decodes as the model's Detector will. */
export function describeModel(
  opts: Pick<TrainOptions, 'out' | 'id' | 'name' | 'modelVersion' | 'license' | 'annotations'>,
  set: TrainSet,
  singleInstance: readonly number[],
  baseModel: ResolvedModel,
  base: { spec: BaseSpec; input: ModelManifest['input']; pose?: PoseModel },
): ModelDescription {
  const id = modelId(opts.out, opts.id);
  const numClasses = set.categories.length;
  const data = path.basename(opts.annotations);
  return {
    id,
    name: opts.name ?? `${id}: ${numClasses} categories, head trained on coco-nanodet's feature pyramid`,
    version: opts.modelVersion ?? '1.0.0',
    format: 'fpn-head',
    modelFile: `${HEAD_NAME}.json`,
    base: base.spec,
    ...(base.pose ? { pose: base.pose.ref } : {}),
    input: base.input,
    output: { decoder: 'nanodet', strides: NANODET_FPN.strides, bins: BINS, scoreActivation: 'none', iouThreshold: IOU_THRESHOLD, mergeIou: MERGE_IOU },
    labels: set.categories.map((c) => c.name),
    categories: set.categories,
    ...(singleInstance.length > 0 ? { singleInstanceCategories: [...singleInstance] } : {}),
    license: opts.license ?? `head trained with fashion-detect on ${data}; base ${baseModel.manifest.license}`,
    // No `npm` here: the weights are this folder's own; the base's npm source is in its own manifest.
    source: { trainedBy: `fashion-detect train on ${data}, base ${baseModel.manifest.id} (${baseModel.manifest.source.npm ?? 'local'})` },
  };
}

/** The figures of a finished training, as metrics.json keeps them. */
export function trainingMetrics(
  settings: Settings,
  set: TrainSet,
  counts: {
    trainPhotos: number;
    validationPhotos: number;
    epochs: number;
    threads: number;
    backend: string;
    tagged?: TrainingMetrics['data']['tagged'];
    copiesOfValidation?: TrainingMetrics['data']['copiesOfValidation'];
  },
  run: { trainSeconds: number; history: TrainingMetrics['history']; validation?: ValidationResult },
): TrainingMetrics {
  return {
    data: {
      annotations: path.basename(settings.annotations),
      annotationsSha256: settings.annotationsSha256,
      photos: set.images.length,
      trainPhotos: counts.trainPhotos,
      validationPhotos: counts.validationPhotos,
      boxes: set.annotationCount,
      boxesPerCategory: Object.fromEntries(set.categories.map((c, i) => [c.name, set.images.reduce((n, im) => n + im.boxes.filter((b) => b.classIndex === i).length, 0)])),
      ...(counts.tagged ? { tagged: counts.tagged } : {}),
      ...(counts.copiesOfValidation?.length ? { copiesOfValidation: counts.copiesOfValidation } : {}),
    },
    settings: {
      ...settings,
      annotations: path.basename(settings.annotations),
      images: path.basename(settings.images),
      ...(settings.tags ? { tags: { ...settings.tags, images: path.basename(settings.tags.images) } } : {}),
      epochs: counts.epochs,
    },
    trainSeconds: Math.round(run.trainSeconds),
    backend: counts.backend,
    threads: counts.threads,
    history: run.history,
    validation: run.validation,
  };
}

/**
 * Writes the model folder of a finished training: the head's weights, metrics.json, MODEL_CARD.md,
 * then manifest.json (last: a folder with a manifest is a finished model), and removes the checkpoint.
 */
export function writeModel(
  out: string,
  model: { description: ModelDescription; shape: HeadShape; params: HeadParams },
  metrics: TrainingMetrics,
  card: { citation?: string; baseModel: ResolvedModel },
): ModelManifest {
  const weights = saveHead(out, HEAD_NAME, model.shape, model.params);
  const bestF1 = metrics.validation?.bestF1;
  const manifest: ModelManifest = {
    ...model.description,
    weights,
    ...(bestF1 ? { defaultMinScore: defaultMinScoreFrom(bestF1) } : {}),
  };
  writeFileAtomic(path.join(out, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
  const base = card.baseModel.manifest;
  const baseDescription = `${base.name}; ${base.source.npm ?? 'installed locally'}; ${base.license}`;
  writeModelCard(path.join(out, 'MODEL_CARD.md'), { manifest, metrics, citation: card.citation, baseDescription });
  writeFileAtomic(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  removeCheckpoint(out);
  return manifest;
}
