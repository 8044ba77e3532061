import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OptionError } from '../base/errors.js';
import { NANODET_FPN } from '../models/fpn-base.js';
import type { ResolvedModel } from '../models/registry.js';
import { MAX_TAIL_UNITS } from '../models/tail.js';
import { inputSizeFor, type TrainSet } from './dataset.js';
import type { InitModel } from './init-from-model.js';
import type { TrainOptions } from './types.js';

/** Distance bins per box side (NanoDet's reg_max + 1). */
export const BINS = 9;
export const DEFAULT_EPOCHS = 40;
const DEFAULT_VAL_SPLIT = 0.15;

/**
 * What a training's result depends on, resolved from its options. A checkpoint keeps them, and is
 * resumed only with the same (the number of epochs may change).
 */
export interface Settings {
  annotations: string;
  annotationsSha256: string;
  images: string;
  base: string;
  input: { width: number; height: number };
  width: number;
  context: boolean;
  tailUnits: number;
  tailLearningRate: number;
  repeatThreshold: number;
  bins: number;
  batchSize: number;
  learningRate: number;
  valSplit: number;
  seed: number;
  zoomOut: number;
  /** Tagged photos that train too: the tags file, and where the model's boxes on them came from. */
  tags?: { sha256: string; images: string; pseudoBoxes: string };
  /** Weight of the photo-level presence loss (presence.ts); absent when off. */
  presenceLoss?: number;
  /** The model whose weights it started from ("id@version"), where one was given. */
  init?: string;
  /** The head takes the wearer's body (models/pose.ts): the pose model's id@version; absent when off. */
  pose?: string;
  /** Decay of the weight average the model is made of (weight-average.ts); absent for none. */
  emaDecay?: number;
}

/** The options checked before anything is read. */
export function checkRunOptions(opts: TrainOptions): { epochs: number; valSplit: number } {
  const epochs = opts.epochs ?? DEFAULT_EPOCHS;
  const valSplit = opts.valSplit ?? DEFAULT_VAL_SPLIT;
  if (!(valSplit >= 0 && valSplit < 1)) throw new OptionError((n) => `${n('valSplit')} must be from 0 to below 1`);
  if (!Number.isInteger(epochs) || epochs < 1) throw new OptionError((n) => `${n('epochs')} must be a whole number of at least 1`);
  if (opts.tags && !opts.tagImages) throw new OptionError((n) => `${n('tags')} needs ${n('tagImages')}, the folder of the tagged photos`);
  if (!opts.tags && (opts.tagImages || opts.pseudoLabels || opts.pseudoModel)) throw new OptionError((n) => `${n(opts.tagImages ? 'tagImages' : opts.pseudoLabels ? 'pseudoLabels' : 'pseudoModel')} goes with ${n('tags')}`);
  if (opts.pseudoLabels && opts.pseudoModel) throw new OptionError((n) => `${n('pseudoLabels')} and ${n('pseudoModel')} name two sources of the model's boxes: give one`);
  return { epochs, valSplit };
}

/** Training starts from NanoDet's feature pyramid (models/fpn-base.ts) only. */
export function checkBase(baseModel: ResolvedModel): void {
  if (baseModel.manifest.id !== NANODET_FPN.model || baseModel.manifest.format !== 'tfjs-graph') {
    throw new OptionError((n) => `${n('base')} ${baseModel.manifest.id}: training starts from coco-nanodet's feature pyramid only`);
  }
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The settings of a training from its options, defaults filled in, and checked. */
export function resolveSettings(opts: TrainOptions, valSplit: number, set: TrainSet, baseModel: ResolvedModel, pseudoModel?: string, init?: InitModel, poseModel?: string): Settings {
  const settings: Settings = {
    annotations: path.resolve(opts.annotations),
    annotationsSha256: sha256(opts.annotations),
    images: path.resolve(opts.images),
    base: baseModel.manifest.id,
    input: opts.input ?? inputSizeFor(set.images),
    width: opts.width ?? init?.spec.width ?? 64,
    context: opts.context ?? init?.spec.context ?? true,
    tailUnits: opts.tailUnits ?? init?.spec.tailUnits ?? 0,
    tailLearningRate: opts.tailLearningRate ?? 0.1,
    repeatThreshold: opts.repeatThreshold ?? 0.3,
    bins: BINS,
    batchSize: opts.batchSize ?? 8,
    learningRate: opts.learningRate ?? 2e-3,
    valSplit,
    seed: opts.seed ?? 0,
    zoomOut: opts.zoomOut ?? 0.8,
    ...(opts.tags ? { tags: tagSettings(opts, pseudoModel) } : {}),
    ...(opts.presenceLoss ? { presenceLoss: opts.presenceLoss } : {}),
    ...(init ? { init: init.tag } : {}),
    ...(poseModel ? { pose: poseModel } : {}),
    ...(opts.emaDecay !== undefined ? { emaDecay: opts.emaDecay } : {}),
  };
  if (settings.emaDecay !== undefined && !(settings.emaDecay > 0 && settings.emaDecay < 1)) throw new OptionError((n) => `${n('emaDecay')} must be above 0 and below 1`);
  if (settings.presenceLoss !== undefined && !(settings.presenceLoss > 0 && settings.presenceLoss <= 10)) throw new OptionError((n) => `${n('presenceLoss')} must be above 0 and at most 10`);
  if (!(Number.isInteger(settings.tailUnits) && settings.tailUnits >= 0 && settings.tailUnits <= MAX_TAIL_UNITS)) {
    throw new OptionError((n) => `${n('tailUnits')}: from 1 to ${MAX_TAIL_UNITS} units`);
  }
  if (!(settings.zoomOut > 0.3 && settings.zoomOut <= 1)) throw new OptionError((n) => `${n('zoomOut')} must be above 0.3 and at most 1`);
  return settings;
}

/** Read after the tags and the model's boxes were read, so the files exist. `pseudoModel`: id@version of the model that found the boxes. */
function tagSettings(opts: TrainOptions, pseudoModel: string | undefined): NonNullable<Settings['tags']> {
  const pseudoBoxes = opts.pseudoLabels ? `file:${sha256(opts.pseudoLabels)}` : `model:${pseudoModel}`;
  return { sha256: sha256(opts.tags!), images: path.resolve(opts.tagImages!), pseudoBoxes };
}

/** The names of the settings that differ between two trainings. */
export function settingsDiffer(a: Settings, b: Settings): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])] as (keyof Settings)[];
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

/** The model's id: the one given, else the name of its folder, made fit for a manifest. */
export function modelId(out: string, id?: string): string {
  const raw = id ?? path.basename(path.resolve(out));
  const clean = raw.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
  if (!clean) throw new OptionError((n) => `cannot make a model id from "${raw}": pass ${n('id')}`);
  return clean;
}
