import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatDuration } from '../../common/format.js';
import { initBackend, tf } from '../base/backend.js';
import { OptionError } from '../base/errors.js';
import { loadBaseGraph, NANODET_FPN, nanodetBaseSpec, type BaseSpec } from '../models/fpn-base.js';
import { headTensorShapes, type HeadShape } from '../models/fpn-head.js';
import { modelTag, type ModelManifest } from '../models/manifest.js';
import { loadPoseModel, type PoseModel } from '../models/pose.js';
import { resolveModel, type ResolvedModel } from '../models/registry.js';
import { tailBaseParts } from '../models/tail.js';
import { CHECKPOINT_JSON, hasCheckpoint, readCheckpoint, type CheckpointState } from './checkpoint.js';
import { readTrainSet, singleInstanceCategories, splitTrainVal, type TrainImage, type TrainSet } from './dataset.js';
import { runEpochs } from './epoch-loop.js';
import { photoJobs, readPhotos, type FeatureReader, type PhotoSample } from './feature-reader.js';
import { photoFeatures, prepareCache, type FeatureExtractor } from './features.js';
import { startingHead } from './head-weights.js';
import { checkInitShape, initialHead, resolveInitModel, type InitModel } from './init-from-model.js';
import { pretrainedTail } from './pretrained-tail.js';
import { describeModel, trainingMetrics, writeModel } from './model-writer.js';
import { copiesOfValidation, describeValidationCopies } from './validation-copies.js';
import { EpochSampler, repeatFactors } from './sampling.js';
import { BINS, checkBase, checkRunOptions, modelId, resolveSettings, settingsDiffer, type Settings } from './settings.js';
import type { BaseOutputShape, StepGeometry } from './step.js';
import { cellCount, photoTargets, pyramidLevels, type Level } from './targets.js';
import { TrainThreads } from './threads.js';
import { HeadTrainer, trainableTensors } from './trainer.js';
import type { TrainOptions, TrainResult } from './types.js';
import { planTagged, taggedTrainPhotos, type TaggedInfo, type TaggedPlan } from './tagged-photos.js';
import { Validator } from './validate.js';
import { presenceShapes, presentClasses } from './presence.js';

export type { EpochRecord, TrainOptions, TrainProgress, TrainResult, ValidationResult } from './types.js';

/**
 * Trains a head on the frozen feature pyramid of an installed NanoDet model for the categories of a
 * COCO file, and writes a model folder (manifest, head weights, model card, metrics). A checkpoint
 * is written each epoch and on stop (`signal`); train again with the same `out` to resume.
 *
 * The parts: settings.ts (options resolved and checked), feature-reader.ts and features.ts (photos
 * read through the base, on helper threads too: threads.ts), sampling.ts (the order of each epoch),
 * trainer.ts and step.ts (optimiser steps), epoch-loop.ts, validate.ts (through the Detector's own
 * decoding), checkpoint.ts, model-writer.ts.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const log = opts.log ?? (() => {});
  const plan = await planTraining(opts, log);
  if (plan.tagged) {
    plan.taggedPhotos = await taggedTrainPhotos(plan.tagged, plan.set, plan.singleInstance, plan.out, opts, log);
    if (opts.signal?.aborted) {
      log("stopped while finding the model's boxes on the tagged photos; nothing trained yet");
      return { status: 'stopped', out: plan.out, epochsDone: plan.resumed?.state.epoch ?? 0, epochs: plan.epochs, trainSeconds: plan.resumed?.state.trainSeconds ?? 0 };
    }
  }
  const base = await loadBase(plan.baseModel, plan.settings, plan.pose);
  const layout = headLayout(plan.settings, plan.set.categories.length);
  const threads = Math.max(1, Math.min(plan.settings.batchSize, opts.threads ?? (tf.getBackend() === 'tensorflow' ? 1 : os.availableParallelism())));
  let helpers: TrainThreads | undefined;
  try {
    if (threads > 1) helpers = await startHelpers(threads - 1, plan.baseModel, base, layout);
    return await runTraining(opts, plan, base, layout, helpers, log);
  } finally {
    base.graph.dispose();
    plan.pose?.graph.dispose();
    await helpers?.close();
  }
}

/** A training resolved and checked before the base runs: what to train, on what, and where it stands. */
interface Plan {
  out: string;
  epochs: number;
  settings: Settings;
  set: TrainSet;
  /** Category ids the data labels once per photo at most. */
  singleInstance: number[];
  baseModel: ResolvedModel;
  /** Tagged photos that train too (tagged-photos.ts): planned, then read. */
  tagged?: TaggedPlan;
  taggedPhotos?: { images: TrainImage[]; info: TaggedInfo };
  /** The model whose weights it starts from. */
  init?: InitModel;
  resumed?: { state: CheckpointState; tensors: Map<string, tf.Tensor> };
  /** The pose model, when the head takes the wearer's body. */
  pose?: PoseModel;
}

async function planTraining(opts: TrainOptions, log: (line: string) => void): Promise<Plan> {
  const out = path.resolve(opts.out);
  const { epochs, valSplit } = checkRunOptions(opts);
  if (fs.existsSync(path.join(out, 'manifest.json')) && !hasCheckpoint(out)) {
    throw new OptionError((n) => `${out} already holds a trained model: choose another ${n('out')}, or delete it to train again`);
  }
  const set = readTrainSet(opts.annotations, opts.images);
  for (const s of set.skipped.slice(0, 5)) log(`skipping ${s.fileName}: ${s.reason}`);
  if (set.skipped.length > 5) log(`... and ${set.skipped.length - 5} more pictures not found`);
  // Labelled once per photo in this data: the model's further boxes of these are scored down.
  const singleInstance = singleInstanceCategories(set);
  if (singleInstance.length > 0) {
    const names = singleInstance.map((id) => set.categories.find((c) => c.id === id)!.name);
    log(`labelled once per photo in this data, so a second box of these is scored down: ${names.join(', ')}`);
  }
  const tagged = planTagged(opts, set, log);
  const baseModel = resolveModel(opts.base ?? NANODET_FPN.model);
  checkBase(baseModel);
  const init = opts.init ? resolveInitModel(opts.init, baseModel.manifest.id) : undefined;
  await initBackend();
  const pseudoModel = tagged?.pseudoModel && modelTag(tagged.pseudoModel.manifest);
  const pose = (opts.pose ?? init?.spec.pose) ? await loadPoseModel() : undefined;
  const settings = resolveSettings(opts, valSplit, set, baseModel, pseudoModel, init, pose?.tag);
  if (init) checkInitShape(init, { width: settings.width, inChannels: NANODET_FPN.channels });
  modelId(out, opts.id);
  const resumed = readCheckpoint(out);
  if (resumed) {
    const differs = settingsDiffer(resumed.state.settings, settings);
    if (differs.length > 0) {
      tf.dispose([...resumed.tensors.values()]);
      throw new OptionError((n) => `${out} holds a checkpoint of a different training (${differs.join(', ')} differ): use another ${n('out')}, or delete ${CHECKPOINT_JSON} there to start over`);
    }
    log(`resuming from ${path.join(out, CHECKPOINT_JSON)}: epoch ${resumed.state.epoch + 1}, step ${resumed.state.step}`);
  }
  fs.mkdirSync(out, { recursive: true });
  return { out, epochs, settings, set, singleInstance, baseModel, tagged, init, resumed, pose };
}

/** The frozen base at the training's input size: the graph, and what it gives for each photo. */
interface Base {
  graph: tf.GraphModel;
  extractor: FeatureExtractor;
  /** The manifest's `base` entry. */
  spec: BaseSpec;
  input: ModelManifest['input'];
}

async function loadBase(baseModel: ResolvedModel, settings: Settings, pose: PoseModel | undefined): Promise<Base> {
  const { width, height } = settings.input;
  const spec = nanodetBaseSpec(baseModel.manifest, width, height, settings.tailUnits);
  const graph = await loadBaseGraph(baseModel.dir, baseModel.manifest.modelFile, width, height, spec.int32Overrides);
  const input: ModelManifest['input'] = { ...baseModel.manifest.input, width, height };
  const fingerprint = [baseModel.manifest.id, ...baseModel.manifest.weights.map((w) => w.sha256), width, height, ...spec.outputs].join(':');
  return { graph, extractor: { graph, outputs: spec.outputs, input, fingerprint, pose }, spec, input };
}

/** The head's shape, and what each step computes on. */
interface HeadLayout {
  shape: HeadShape;
  levels: Level[];
  /** What a sample holds: the pyramid's levels, or the parts before the tail. */
  inputShapes: BaseOutputShape[];
  geometry: StepGeometry;
}

function headLayout(settings: Settings, numClasses: number): HeadLayout {
  const levels = pyramidLevels(settings.input.width, settings.input.height, NANODET_FPN.strides);
  const channels = NANODET_FPN.channels;
  const shape: HeadShape = { inChannels: channels, width: settings.width, numClasses, bins: BINS, context: settings.context, tailUnits: settings.tailUnits, ...(settings.pose ? { pose: true } : {}) };
  const inputShapes: BaseOutputShape[] =
    settings.tailUnits > 0
      ? tailBaseParts(settings.tailUnits).map((p) => ({ ...levels.find((l) => l.stride === p.stride)!, channels: p.channels }))
      : levels.map((l) => ({ ...l, channels }));
  const geometry: StepGeometry = { levels, inputs: inputShapes, tail: settings.tailUnits > 0, cells: cellCount(levels), numClasses, bins: BINS, presenceWeight: settings.presenceLoss ?? 0 };
  return { shape, levels, inputShapes, geometry };
}

function startHelpers(count: number, baseModel: ResolvedModel, base: Base, layout: HeadLayout): Promise<TrainThreads> {
  const shapes = { ...headTensorShapes(layout.shape), ...presenceShapes(layout.shape.inChannels, layout.shape.numClasses) };
  return TrainThreads.start(count, {
    geometry: layout.geometry,
    shapes: trainableTensors(layout.shape, layout.geometry.presenceWeight > 0).map((n) => [n, shapes[n]!]),
    base: { dir: baseModel.dir, modelFile: baseModel.manifest.modelFile, overrides: base.spec.int32Overrides, input: base.input, outputs: base.extractor.outputs, fingerprint: base.extractor.fingerprint, pose: base.extractor.pose !== undefined },
  });
}

/** Reads the photos through the base (on every thread), then trains, validates and writes the model. */
async function runTraining(opts: TrainOptions, plan: Plan, base: Base, layout: HeadLayout, helpers: TrainThreads | undefined, log: (line: string) => void): Promise<TrainResult> {
  const { out, epochs, settings, set, resumed } = plan;
  const split = splitTrainVal(set.images, settings.valSplit, settings.seed);
  // Validation is drawn from the boxed photos only: tagged photos only ever train.
  const valImages = split.val;
  const candidates = [...split.train, ...(plan.taggedPhotos?.images ?? [])];
  const copies = await copiesOfValidation(candidates, valImages, opts.signal);
  if (copies.length > 0) log(describeValidationCopies(copies));
  const copyFiles = new Set(copies.map((c) => c.file));
  const trainImages = candidates.filter((i) => !copyFiles.has(i.file));
  const cacheDir = opts.cacheDir === false ? undefined : (opts.cacheDir ?? path.join(os.tmpdir(), 'fashion-detect-features'));
  const readers: FeatureReader[] = [
    (file, variant) => photoFeatures(base.extractor, file, variant, cacheDir),
    ...Array.from({ length: helpers?.count ?? 0 }, (_, t): FeatureReader => (file, variant) => helpers!.features(t, file, variant, cacheDir)),
  ];
  const jobs = photoJobs(trainImages, valImages, settings.zoomOut);
  if (cacheDir) log(prepareCache(cacheDir, jobs.length, layout.inputShapes));
  const photos = await readPhotos(jobs, readers, {
    signal: opts.signal,
    log,
    onProgress: (finished, total, etaSeconds) => opts.onProgress?.({ phase: 'features', epoch: 0, epochs, step: finished, steps: total, etaSeconds }),
  });
  if (opts.signal?.aborted) {
    log('stopped while reading photos; nothing trained yet (the features read so far are cached)');
    return { status: 'stopped', out, epochsDone: resumed?.state.epoch ?? 0, epochs, trainSeconds: resumed?.state.trainSeconds ?? 0 };
  }
  const valIds = new Set(valImages.map((i) => i.id));
  const trainPhotos = photos.filter((s) => !valIds.has(s.image.id));
  const valPhotos = photos.filter((s) => valIds.has(s.image.id)).map((s) => ({ image: s.image, sample: s.sample }));
  // Every photo skipped (unreadable, each named above): a model trained on nothing must not be written.
  if (trainPhotos.length === 0) throw new Error(`none of the ${trainImages.length} training photos could be read (the lines above say why)`);
  const sampler = new EpochSampler(trainPhotos, repeatFactors(trainImages, set.categories.length, settings.repeatThreshold), settings.batchSize, settings.seed);
  const trainer = await HeadTrainer.create(
    layout.shape,
    resumed ? { saved: resumed.tensors } : { params: firstHead(plan, layout, base, trainPhotos, log), seed: settings.seed },
    { head: settings.learningRate, tailShare: settings.tailLearningRate },
    layout.geometry,
    helpers,
    settings.emaDecay,
  );
  const state: CheckpointState = resumed?.state ?? { version: 1, settings, epochs, epoch: 0, step: 0, trainSeconds: 0, history: [], stepLossSum: 0, tensors: [] };
  state.epochs = epochs;
  const threads = 1 + (helpers?.count ?? 0);
  log(
    `training ${set.categories.length} categories on ${sampler.photoIds.length} photos (${valPhotos.length} held out for validation), ` +
      `input ${settings.input.width}x${settings.input.height}, ${epochs} epochs of ${sampler.steps} steps, ${threads} thread${threads > 1 ? 's' : ''}`,
  );
  const description = describeModel(opts, set, plan.singleInstance, plan.baseModel, { ...base, pose: plan.pose });
  const validator = valPhotos.length > 0 ? new Validator(description, valPhotos, layout.inputShapes) : undefined;
  try {
    const numClasses = set.categories.length;
    const samples = trainPhotos.map((s) => {
      const targets = photoTargets(s.image, s.sample, layout.levels, BINS);
      // Which categories the photo holds, for the presence loss only (the messages to the threads stay small without it).
      return { sample: s.sample, targets: layout.geometry.presenceWeight > 0 ? { ...targets, present: presentClasses(s.image, numClasses) } : targets };
    });
    const end = await runEpochs({ out, epochs, state, trainer, sampler, samples, inputShapes: layout.inputShapes, validator, signal: opts.signal, onProgress: opts.onProgress, log });
    if (end.stopped) {
      await trainer.saveCheckpoint(out, state);
      log(`stopped at epoch ${state.epoch + 1}, step ${state.step}; the checkpoint is saved`);
      return { status: 'stopped', out, epochsDone: state.epoch, epochs, trainSeconds: state.trainSeconds };
    }
    // Resumed after the last epoch's checkpoint, no epoch ran in this session: validate here.
    const validation = end.lastValidation ?? (validator && trainer.withModelParams((params) => validator.run(params)));
    const boxedIds = new Set(set.images.map((i) => i.id));
    const counts = {
      trainPhotos: sampler.photoIds.filter((id) => boxedIds.has(id)).length,
      validationPhotos: valPhotos.length,
      epochs,
      threads,
      backend: tf.getBackend(),
      tagged: plan.taggedPhotos?.info,
      copiesOfValidation: copies.map(({ photo, copyOf, distance }) => ({ photo, copyOf, distance })),
    };
    const metrics = trainingMetrics(settings, set, counts, { trainSeconds: state.trainSeconds, history: state.history, validation });
    trainer.withModelParams((params) => writeModel(out, { description, shape: layout.shape, params }, metrics, { citation: opts.citation, baseModel: plan.baseModel }));
    log(`wrote ${out} (validation AP50 ${fmt(validation?.ap50)}, AP ${fmt(validation?.ap)}) in ${formatDuration(state.trainSeconds)} of training`);
    const split = { train: [...new Set(trainImages.map((i) => i.fileName))], val: valImages.map((i) => i.fileName) };
    return { status: 'finished', out, epochsDone: state.epoch, epochs, validation, trainSeconds: state.trainSeconds, split };
  } finally {
    trainer.dispose();
  }
}

/** The head a new training starts from: the init model's where one was given, else fresh weights. */
function firstHead(plan: Plan, layout: HeadLayout, base: Base, trainPhotos: readonly PhotoSample[], log: (line: string) => void) {
  const { settings, init, set } = plan;
  if (!init) return startingHead(layout.shape, plainSamples(trainPhotos), layout.inputShapes, base.graph, settings.seed);
  const classes = set.categories.map((c) => c.name);
  const { params, matched } = initialHead(layout.shape, classes, init, settings.seed, () => pretrainedTail(base.graph, settings.tailUnits));
  const fresh = classes.filter((c) => !matched.includes(c));
  log(`starting from ${init.tag}: ${matched.length} of ${classes.length} categories known to it by name${fresh.length > 0 ? `; new: ${fresh.join(', ')}` : ''}`);
  return params;
}

/** The samples of the photos as the Detector sees them: neither mirrored nor smaller. */
function plainSamples(photos: readonly PhotoSample[]) {
  return photos.filter((s) => !s.sample.flipped && !s.zoomed).map((s) => s.sample);
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined ? 'n/a' : v.toFixed(3);
}
