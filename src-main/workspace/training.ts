// Training a model from the window: what it would learn from and how long it takes (the estimate),
// the training itself in a process of its own (training-process.ts) with its progress as 'training'
// events, cancel and resume, and the end: the new model installed beside the others, measured against
// the model in use on the photos it held back. training-data.ts says what it learns from,
// training-files.ts where it all lives.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, type ApiEvent, type ApiParsedInput, type ModelComparison, type TrainingEstimate, type TrainingStatus } from '../contract/api.js';
import { defaultMinScoreOf } from '../core/models/manifest.js';
import { resolveModel, type ResolvedModel } from '../core/models/registry.js';
import { inputSizeFor, type TrainImage } from '../core/train/dataset.js';
import { estimateTraining, readTimings, timingsWithPose, writeTimings, type TrainingRecipe } from '../core/train/estimate.js';
import { poseModelProblem } from '../core/models/pose.js';
import type { ChildReply, ChildTrainRequest } from '../core/train/train-child.js';
import type { TrainOptions, TrainResult } from '../core/train/types.js';
import { writeFileAtomic } from '../core/base/atomic-write.js';
import type { WorkspaceCategories } from './categories.js';
import type { ImageSet } from './image-set.js';
import type { WorkspaceModel } from './model.js';
import { cocoFilePhotos, examplesPerCategory, MINIMUM_PHOTOS, reviewedPhotos, tagsForTraining, trainingCoco, trainingRefusal, type TrainingPhoto } from './training-data.js';
import { hasCheckpoint, idForName, readRequest, installTrained, latestUnfinished, modelOut, timingsFile, trainingDir, unfinishedStatus, writeRequest, type SavedRequest } from './training-files.js';
import { TrainingProcess } from './training-process.js';

/** Status events at most this often (and at once when a phase or the run ends). */
const STATUS_INTERVAL_MS = 250;
/** Closing the app waits this long for the training to save its checkpoint. */
const CLOSE_PATIENCE_MS = 12_000;
/** The base every model trained here is built on. */
const BASE_MODEL = 'coco-nanodet';

export interface TrainingOptions {
  images: ImageSet;
  categories: WorkspaceCategories;
  model: WorkspaceModel;
  /** Where trainings and the models they make live (core's userDataDir). */
  userData: string;
  emit: (event: ApiEvent) => void;
  /** Options every training here takes over the app's recipe (tests train tiny heads). */
  overrides?: Partial<TrainOptions>;
}

/** A training under way (or just ended) in this session. */
interface Run {
  dir: string;
  request: SavedRequest;
  status: TrainingStatus;
  process?: TrainingProcess;
  /** When photos started to be read through the base, and how many reads; when training steps started. */
  times: { readsStart?: number; reads?: number; trainStart?: number; resumed?: boolean; input: { width: number; height: number } } & TrainingRecipe;
  /** The estimate's seconds of training, worked out at the first progress of the photo reads. */
  trainSecondsEstimate?: number;
}

const blankStatus = (request: SavedRequest): TrainingStatus => ({
  modelId: request.modelId,
  name: request.name,
  state: 'running',
  phase: 'preparing',
  epoch: 0,
  epochs: request.epochs,
  step: 0,
  steps: 0,
  loss: null,
  valAp50: null,
  etaSeconds: null,
  message: null,
  canResume: false,
  comparison: null,
});

/** The model in use, where a new model can start from its weights: one trained by fashion-detect on coco-nanodet. */
function initModel(model: WorkspaceModel): ResolvedModel | undefined {
  const resolved = model.resolved;
  return resolved?.manifest.format === 'fpn-head' && resolved.manifest.base?.model === BASE_MODEL ? resolved : undefined;
}

/** The head's width, tail units and pose a training here gets: the init model's, else fashion-ccp's recipe without pose (as overridden). */
function recipeOf(init: ResolvedModel | undefined, overrides: Partial<TrainOptions> | undefined): TrainingRecipe {
  const spec = init ? (JSON.parse(fs.readFileSync(path.join(init.dir, init.manifest.modelFile), 'utf8')) as { width?: number; tailUnits?: number; pose?: boolean }) : {};
  return { width: overrides?.width ?? spec.width ?? 96, tailUnits: overrides?.tailUnits ?? spec.tailUnits ?? 3, pose: overrides?.pose ?? spec.pose ?? false };
}

/** The model's input shaped like the photos: the model in use's where it has their shape, else core's choice. */
function inputFor(photos: readonly TrainingPhoto[], init: ResolvedModel | undefined): { width: number; height: number } {
  const shaped = inputSizeFor(photos.map((p) => ({ width: p.width, height: p.height }) as TrainImage));
  if (!init) return shaped;
  const { width, height } = init.manifest.input;
  const kind = (w: number, h: number) => (h / w > 1.2 ? 'portrait' : w / h > 1.2 ? 'landscape' : 'square');
  return kind(width, height) === kind(shaped.width, shaped.height) ? { width, height } : shaped;
}

export class Training {
  private run: Run | null = null;
  /** The slider's score at the last estimate: what "reviewed" means for a request that names none. */
  private lastMinScore: number | undefined;
  private lastEmit = 0;
  private emitTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: TrainingOptions) {}

  /** The training of this session, else an unfinished one found on disk (it can be resumed), else null. */
  status(): TrainingStatus | null {
    if (this.run) return this.run.status;
    const found = latestUnfinished(this.options.userData);
    return found ? unfinishedStatus(found.dir, found.request) : null;
  }

  estimate(minScore: number): TrainingEstimate {
    this.lastMinScore = minScore;
    const photos = reviewedPhotos(this.options.images, minScore);
    const categories = examplesPerCategory(photos, this.options.categories.list);
    const init = initModel(this.options.model);
    const input = this.options.overrides?.input ?? inputFor(photos, init);
    const recipe = recipeOf(init, this.options.overrides);
    const measured = readTimings(timingsFile(this.options.userData), recipe);
    const timeWith = (pose: boolean) => estimateTraining(Math.max(photos.length, MINIMUM_PHOTOS), input, timingsWithPose(measured, pose));
    const time = timeWith(false);
    return {
      reviewedPhotos: photos.length,
      minimumPhotos: MINIMUM_PHOTOS,
      categories,
      ...time,
      pose: { byDefault: recipe.pose, setupSeconds: timeWith(true).setupSeconds, problem: poseModelProblem() },
      startsFrom: init?.manifest.id ?? null,
      refusal: trainingRefusal(photos.length, categories.filter((c) => c.examples > 0)) ?? this.baseProblem() ?? (this.run?.process ? 'a training is running: wait for it to end, or cancel it' : null),
    };
  }

  private baseProblem(): string | null {
    try {
      resolveModel(BASE_MODEL);
      return null;
    } catch (err) {
      return `models are trained on ${BASE_MODEL}'s features, and it cannot be used: ${(err as Error).message}`;
    }
  }

  async start(input: ApiParsedInput<'startTraining'>): Promise<TrainingStatus> {
    if (this.run?.process) throw new ApiError(`"${this.run.request.name}" is training: wait for it to end, or cancel it`);
    const baseProblem = this.baseProblem();
    if (baseProblem) throw new ApiError(baseProblem);
    const minScore = input.minScore ?? this.lastMinScore ?? defaultMinScoreOf(this.options.model.resolved?.manifest);
    const { images, categories } = this.options;
    const reviewed = reviewedPhotos(images, minScore);
    const taken = new Set(reviewed.map((p) => p.file));
    const extra = cocoFilePhotos(input.extraFiles, images, categories, taken);
    const photos = [...reviewed, ...extra.photos];
    const examples = examplesPerCategory(photos, categories.list);
    for (const id of input.categoryIds ?? []) if (!categories.has(id)) throw new ApiError(`category ${id} is not one of this workspace's categories`);
    const chosen = input.categoryIds ? examples.filter((c) => input.categoryIds!.includes(c.id)) : examples.filter((c) => c.examples > 0);
    const refusal = trainingRefusal(reviewed.length + extra.photos.length, chosen);
    if (refusal) throw new ApiError(refusal);
    const trainCategories = categories.list.filter((c) => chosen.some((k) => k.id === c.id));
    for (const p of photos) taken.add(p.file);
    const tags = tagsForTraining(input.extraFiles, images, trainCategories, taken);
    const modelId = idForName(this.options.userData, input.name);
    const dir = trainingDir(this.options.userData, modelId);
    // A resume that does not say (the window after a restart) keeps the unfinished run's choice.
    const pose = input.pose ?? readRequest(dir)?.pose;
    const request: SavedRequest = {
      modelId,
      name: input.name,
      epochs: input.epochs,
      minScore,
      categoryIds: trainCategories.map((c) => c.id),
      extraFiles: input.extraFiles.map((f) => ({ kind: f.kind, fileName: f.fileName })),
      ...(pose === undefined ? {} : { pose }),
      workspace: images.home,
      photos: Object.fromEntries(photos.map((p) => [p.file, p.name])),
      startedAt: new Date().toISOString(),
    };
    const options = this.trainOptions(dir, request, photos, Boolean(tags.doc));
    const recipe = recipeOf(options.init ? initModel(this.options.model) : undefined, options);
    const poseProblem = recipe.pose ? poseModelProblem() : null;
    if (poseProblem) throw new ApiError(`the wearer's pose cannot be learnt: ${poseProblem}`);
    const notes = this.writeFiles(dir, request, { coco: trainingCoco(photos, trainCategories), tags: tags.doc, options: { ...options, epochs: undefined } });
    return this.launch(dir, request, options, recipe, [...extra.notes, ...tags.notes, ...notes]);
  }

  /**
   * train.json, tags.json and request.json in the training's folder. The same training file again
   * resumes the checkpoint there; another one (photos reviewed since, other categories) starts over.
   */
  private writeFiles(dir: string, request: SavedRequest, input: { coco: ReturnType<typeof trainingCoco>; tags: unknown; options: unknown }): string[] {
    const notes: string[] = [];
    const { coco, tags } = input;
    const text = JSON.stringify(input);
    const inputFile = path.join(dir, 'training-input.json');
    const before = fs.existsSync(inputFile) ? fs.readFileSync(inputFile, 'utf8') : undefined;
    if (before !== text && fs.existsSync(modelOut(dir))) {
      fs.rmSync(modelOut(dir), { recursive: true, force: true });
      notes.push('the photos or categories changed since this training stopped: it starts over');
    }
    fs.mkdirSync(dir, { recursive: true });
    writeFileAtomic(path.join(dir, 'train.json'), JSON.stringify(coco));
    if (tags) writeFileAtomic(path.join(dir, 'tags.json'), JSON.stringify(tags));
    else fs.rmSync(path.join(dir, 'tags.json'), { force: true });
    writeFileAtomic(inputFile, text);
    writeRequest(dir, request);
    return notes;
  }

  /** The app's recipe, scaled to a person's data: fashion-ccp's (a head of width 96 and 3 tail units), from the model in use's weights where it can. */
  private trainOptions(dir: string, request: SavedRequest, photos: readonly TrainingPhoto[], tagged: boolean): ChildTrainRequest['options'] {
    const current = this.options.model.resolved;
    const init = initModel(this.options.model);
    return {
      annotations: path.join(dir, 'train.json'),
      images: dir,
      out: modelOut(dir),
      epochs: request.epochs,
      id: request.modelId,
      name: request.name,
      modelVersion: '1.0.0',
      license: `trained in Fashion Detect on ${photos.length} photos reviewed by a person${request.workspace ? ` in ${path.basename(request.workspace)}` : ''}`,
      input: inputFor(photos, init),
      ...(init ? { init: init.dir } : { width: 96, tailUnits: 3 }),
      ...(request.pose === undefined ? {} : { pose: request.pose }),
      // With tags, the photo-level loss is what lets them train the shared layers (CCP: mAP50 0.560 to 0.584).
      ...(tagged && current ? { tags: path.join(dir, 'tags.json'), tagImages: dir, pseudoModel: current.dir, presenceLoss: 1 } : {}),
      ...this.options.overrides,
    };
  }

  /** Forks the training (`recipe`: its head and pose, as recipeOf gives them for `options`). */
  private launch(dir: string, request: SavedRequest, options: ChildTrainRequest['options'], recipe: TrainingRecipe, notes: string[]): TrainingStatus {
    const current = this.options.model.resolved;
    const run: Run = { dir, request, status: blankStatus(request), times: { input: options.input!, ...recipe } };
    this.run = run;
    for (const note of notes) this.log(run, note);
    run.process = new TrainingProcess(
      { options, ...(current ? { compareWith: current.dir } : {}) },
      { onReply: (reply) => this.onReply(run, reply), onExit: (code, signal, output) => this.onExit(run, code, signal, output) },
    );
    this.emitStatus(true);
    return { ...run.status };
  }

  private log(run: Run, line: string): void {
    try {
      fs.appendFileSync(path.join(run.dir, 'log.txt'), `${new Date().toISOString()} ${line}\n`);
    } catch {
      // the log is for people reading it later; the training does not depend on it
    }
  }

  private onReply(run: Run, reply: ChildReply): void {
    const status = run.status;
    if (reply.type === 'log') this.log(run, reply.line);
    else if (reply.type === 'progress') {
      const p = reply.progress;
      const phaseChanged = status.phase !== p.phase || status.epoch !== p.epoch;
      const now = performance.now();
      if (p.phase === 'features' && run.times.readsStart === undefined) run.times.readsStart = now;
      if (p.phase === 'features') run.times.reads = p.steps;
      if (p.phase === 'train' && run.times.trainStart === undefined) {
        run.times.trainStart = now;
        run.times.resumed = p.epoch > 1 || p.step > 1;
      }
      Object.assign(status, { phase: p.phase, epoch: p.epoch, epochs: p.epochs, step: p.step, steps: p.steps, loss: p.loss ?? null, valAp50: p.valAp50 ?? null, etaSeconds: p.etaSeconds ?? null });
      if (p.phase === 'features' && p.etaSeconds !== undefined) status.etaSeconds = p.etaSeconds + this.trainingSeconds(run);
      this.emitStatus(phaseChanged);
    } else if (reply.type === 'compare') {
      Object.assign(status, { phase: 'compare', step: reply.done, steps: reply.total, etaSeconds: null });
      this.emitStatus(reply.done === 1);
    } else if (reply.type === 'stopped') {
      const at = `epoch ${reply.result.epochsDone + 1} of ${reply.result.epochs}`;
      this.end(run, { state: 'cancelled', canResume: true, message: `stopped at ${at}; its checkpoint is kept: train again with the same name and photos to resume` });
    } else if (reply.type === 'failed') {
      this.end(run, { state: 'failed', canResume: hasCheckpoint(run.dir), message: `the training failed: ${reply.message}` });
    } else {
      this.finished(run, reply.result, reply.comparison);
    }
  }

  /** Seconds of training the estimate gives for this run (for the time left while photos are read): once a run, not once a photo read. */
  private trainingSeconds(run: Run): number {
    const photos = Object.keys(run.request.photos).length;
    run.trainSecondsEstimate ??= estimateTraining(photos, run.times.input, readTimings(timingsFile(this.options.userData), run.times)).secondsPerEpoch * run.request.epochs;
    return run.trainSecondsEstimate;
  }

  private finished(run: Run, result: TrainResult, comparison: ModelComparison | null): void {
    try {
      installTrained(this.options.userData, run.dir, run.request, result.split ?? { train: [], val: [] }, comparison ? { 'comparison.json': comparison } : {});
    } catch (err) {
      this.end(run, { state: 'failed', canResume: false, message: `the model was trained but could not be installed: ${(err as Error).message}` });
      return;
    }
    this.recordTimes(run, result);
    const ap = result.validation?.ap50;
    const message = `"${run.request.name}" is ready${ap !== undefined && ap !== null ? ` (validation AP50 ${ap.toFixed(3)})` : ''}: choose it in Model`;
    this.options.emit({ type: 'models' });
    this.end(run, { state: 'finished', phase: null, canResume: false, message, comparison, etaSeconds: 0 });
  }

  /** What this run measured becomes the estimate of the next (reads from the cache are not a measure). */
  private recordTimes(run: Run, result: TrainResult): void {
    const { readsStart, reads, trainStart, resumed, input, width, tailUnits, pose } = run.times;
    const trainPhotos = result.split?.train.length ?? 0;
    if (trainStart === undefined || resumed || trainPhotos === 0 || result.epochs === 0) return;
    const before = readTimings(timingsFile(this.options.userData), { width, tailUnits, pose });
    const perRead = readsStart !== undefined && reads ? (trainStart - readsStart) / 1000 / reads : 0;
    const perPhotoEpoch = (performance.now() - trainStart) / 1000 / (trainPhotos * result.epochs);
    const area = input.width * input.height;
    const scale = area / before.area;
    try {
      writeTimings(timingsFile(this.options.userData), {
        secondsPerRead: perRead > 0.02 ? perRead : before.secondsPerRead * scale,
        secondsPerPhotoEpoch: perPhotoEpoch,
        area,
        width,
        tailUnits,
        pose,
        measuredAt: new Date().toISOString(),
      });
    } catch {
      // the next estimate uses the earlier figures
    }
  }

  private onExit(run: Run, code: number | null, signal: NodeJS.Signals | null, output: string): void {
    run.process = undefined;
    if (run.status.state !== 'running') return;
    const why = signal ? `was ended (${signal})` : `stopped with exit code ${code}`;
    const canResume = hasCheckpoint(run.dir);
    this.end(run, { state: 'failed', canResume, message: `the training process ${why}${output ? `: ${output.split('\n').slice(-3).join(' ')}` : ''}` });
  }

  private end(run: Run, change: Partial<TrainingStatus>): void {
    Object.assign(run.status, { etaSeconds: null }, change);
    this.emitStatus(true);
  }

  /** Stops the training at its next step and waits for it (its checkpoint is saved); null when none runs. */
  async cancel(): Promise<TrainingStatus | null> {
    const run = this.run;
    if (!run?.process) return run ? { ...run.status } : null;
    await run.process.stopAndWait(CLOSE_PATIENCE_MS * 5);
    return { ...run.status };
  }

  /** The app is quitting: the training saves its checkpoint and stops; the next start offers to resume it. */
  async close(): Promise<void> {
    if (this.emitTimer) clearTimeout(this.emitTimer);
    await this.run?.process?.stopAndWait(CLOSE_PATIENCE_MS);
  }

  /** Now for a milestone (a phase, an epoch, the end), otherwise at most every STATUS_INTERVAL_MS. */
  private emitStatus(now: boolean): void {
    const send = () => {
      this.emitTimer = null;
      this.lastEmit = performance.now();
      if (this.run) this.options.emit({ type: 'training', training: { ...this.run.status } });
    };
    if (now || performance.now() - this.lastEmit >= STATUS_INTERVAL_MS) {
      if (this.emitTimer) clearTimeout(this.emitTimer);
      send();
    } else if (!this.emitTimer) {
      this.emitTimer = setTimeout(send, STATUS_INTERVAL_MS);
    }
  }
}
