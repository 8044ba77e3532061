import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { writeFileAtomic } from '../base/atomic-write.js';
import { initBackend, tf } from '../base/backend.js';
import { UsageError } from '../base/errors.js';
import { AP_MIN_SCORE, evaluateBoxes, type CategoryEval, type OperatingPoint } from '../eval/coco-eval.js';
import { boxToInput, boxToSource } from '../images/letterbox.js';
import { decodeNanodet, type NanodetLevel } from '../models/decode-nanodet.js';
import type { ModelManifest } from '../models/manifest.js';
import { resolveModel } from '../models/registry.js';
import { classwiseNms } from '../detect/nms.js';
import { inputSizeFor, readTrainSet, seededRandom, shuffled, singleInstanceCategories, splitTrainVal, type TrainImage } from './dataset.js';
import { featureStatistics, photoFeatures, type FeatureExtractor, type FeatureSample, type PhotoVariant } from './features.js';
import { loadBaseGraph, NANODET_FPN, nanodetBaseSpec } from '../models/fpn-base.js';
import { contextBias, headLevel, headTensorNames, headTensorShapes, initHead, saveHead, standardisedPyramid, type HeadParams, type HeadShape, type HeadTensorName } from '../models/fpn-head.js';
import { writeModelCard } from './model-card.js';
import { batchBaseOutputs, partGradients, type BaseOutputShape, type StepGeometry, type StepPart } from './step.js';
import { MAX_TAIL_UNITS, pretrainedTail, TAIL_TENSORS, tailBaseParts, tunedPyramid, type TailParams } from '../models/tail.js';
import { assignTargets, cellCount, pyramidLevels, type Level, type Targets } from './targets.js';
import type { TrainWorkerReply, TrainWorkerRequest, TrainWorkerSetup } from './train-worker.js';

export interface TrainOptions {
  annotations: string;
  images: string;
  out: string;
  base?: string;
  epochs?: number;
  valSplit?: number;
  batchSize?: number;
  learningRate?: number;
  /** Channels of the head's two 3x3 convolutions. */
  width?: number;
  /** Give the head a per-photo context bias (see head.ts); on by default. */
  context?: boolean;
  /** Fine-tune the last units of the base's backbone (1 to 3) and its lateral into the pyramid with the head (tail.ts); 0 for none. */
  tailUnits?: number;
  /** The tail's learning rate as a share of the head's: it starts trained, so it moves slower. */
  tailLearningRate?: number;
  /**
   * Repeat-factor sampling (as LVIS training does): a photo with a category found on fewer than this
   * share of the training photos is shown more often, up to sqrt(share / frequency) times an epoch.
   * 0 turns it off.
   */
  repeatThreshold?: number;
  /** Threads that share each batch; by default one per core on the wasm backend, 1 on tfjs-node (already multi-threaded). */
  threads?: number;
  /**
   * Scale augmentation: each training photo is also read at this share of its size (mirrored for every
   * other photo), and shown so a quarter of the time. 1 turns it off.
   */
  zoomOut?: number;
  /** Model input; by default shaped like the photos. */
  input?: { width: number; height: number };
  seed?: number;
  /** Id, version, name, licence line and citation for the manifest and the model card. */
  id?: string;
  modelVersion?: string;
  name?: string;
  license?: string;
  citation?: string;
  /** Where the pyramid of each photo is cached between runs; `false` keeps it in memory only. */
  cacheDir?: string | false;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  log?: (line: string) => void;
}

export interface TrainProgress {
  phase: 'features' | 'train';
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  /** Mean loss over this epoch so far. */
  loss?: number;
  /** Validation AP50 after the last finished epoch. */
  valAp50?: number | null;
  etaSeconds?: number;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  valAp50: number | null;
  valAp: number | null;
  seconds: number;
}

export interface ValidationResult {
  images: number;
  ap: number | null;
  ap50: number | null;
  ap75: number | null;
  perCategory: { name: string; gtCount: number; ap: number | null; ap50: number | null }[];
  /** Where F1 at IoU 0.5 peaks: the model's default minimum score. */
  bestF1: OperatingPoint | null;
}

export interface TrainResult {
  status: 'finished' | 'stopped';
  out: string;
  epochsDone: number;
  epochs: number;
  validation?: ValidationResult;
  trainSeconds: number;
}

const BINS = 9;
const CHECKPOINT_JSON = 'checkpoint.json';
const CHECKPOINT_BIN = 'checkpoint.bin';
const HEAD_NAME = 'head';

interface Settings {
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
}

interface CheckpointState {
  version: 1;
  settings: Settings;
  epochs: number;
  /** Epochs finished, and steps finished in the next one. */
  epoch: number;
  step: number;
  trainSeconds: number;
  history: EpochRecord[];
  stepLossSum: number;
  tensors: { name: string; shape: number[] }[];
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function modelId(out: string, id?: string): string {
  const raw = id ?? path.basename(path.resolve(out));
  const clean = raw.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
  if (!clean) throw new UsageError(`cannot make a model id from "${raw}": pass --id`);
  return clean;
}

/** Learning rate: linear warm-up over the first 300 steps, then cosine down to 5%. */
function learningRateAt(step: number, totalSteps: number, peak: number): number {
  const warmup = Math.min(300, Math.floor(totalSteps / 10));
  if (step < warmup) return peak * (0.1 + (0.9 * step) / warmup);
  const t = (step - warmup) / Math.max(1, totalSteps - warmup);
  return peak * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, t))));
}

function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}
export { formatDuration };

/** Target boxes of a photo in model input pixels (mirrored with the photo when it is). */
function targetsFor(image: TrainImage, sample: FeatureSample, levels: Level[]): Targets {
  const box = sample.box;
  const boxes = image.boxes.map((b) => {
    let [x1, y1, x2, y2] = boxToInput(box, b.bbox[0], b.bbox[1], b.bbox[2], b.bbox[3]);
    if (sample.flipped) [x1, x2] = [box.scaledWidth - x2, box.scaledWidth - x1];
    return { x1, y1, x2, y2, classIndex: b.classIndex };
  });
  return assignTargets(boxes, levels, BINS);
}

/** The base outputs of a batch of samples as NHWC tensors. */
function batchTensors(samples: readonly FeatureSample[], shapes: readonly BaseOutputShape[]): tf.Tensor4D[] {
  return batchBaseOutputs(samples, shapes).map((data, i) => tf.tensor4d(data, [samples.length, shapes[i].rows, shapes[i].cols, shapes[i].channels]));
}

/** A sample's pyramid (NHWC data, levels in order) through the given tail. */
function pyramidData(sample: FeatureSample, shapes: readonly BaseOutputShape[], tail: TailParams): Float32Array {
  const levels = tf.tidy(() => tunedPyramid(batchTensors([sample], shapes), tail, false));
  const data = levels.map((l) => l.dataSync() as Float32Array);
  tf.dispose(levels);
  const out = new Float32Array(data.reduce((n, d) => n + d.length, 0));
  data.reduce((o, d) => (out.set(d, o), o + d.length), 0);
  return out;
}

/**
 * How many times each photo is shown an epoch (repeat-factor sampling): the largest
 * sqrt(threshold / f) over its categories, f the share of photos with that category, at least 1.
 */
export function repeatFactors(photos: readonly TrainImage[], numClasses: number, threshold: number): Map<number, number> {
  const withClass = new Array<number>(numClasses).fill(0);
  for (const p of photos) for (const c of new Set(p.boxes.map((b) => b.classIndex))) withClass[c]++;
  const factor = withClass.map((n) => (n === 0 || threshold <= 0 ? 1 : Math.max(1, Math.sqrt(threshold / (n / photos.length)))));
  return new Map(photos.map((p) => [p.id, Math.max(1, ...p.boxes.map((b) => factor[b.classIndex]))]));
}

type Optimizers = { head: tf.AdamOptimizer; tail: tf.AdamOptimizer };

/** A helper thread failed or stopped: the training cannot go on (unlike a photo that cannot be read). */
class ThreadFailure extends Error {}

/** Helper threads of a training (train-worker.ts): they read photos through the base and compute parts of each step. */
class TrainThreads {
  private constructor(private readonly workers: Worker[]) {}

  static async start(count: number, setup: TrainWorkerSetup): Promise<TrainThreads> {
    const script = __filename.endsWith('.ts') ? path.resolve(__dirname, '../../../dist/main/core/train/train-worker.js') : path.join(__dirname, 'train-worker.js');
    const started: Worker[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const worker = new Worker(script, { workerData: setup });
        started.push(worker);
        await new Promise<void>((resolve, reject) => {
          worker.once('message', (reply: TrainWorkerReply) => (reply.type === 'ready' ? resolve() : reject(new Error(reply.type === 'failed' ? reply.message : 'unexpected reply'))));
          worker.once('error', reject);
        });
      }
    } catch (err) {
      await Promise.all(started.map((w) => w.terminate()));
      throw new Error(`could not start a training thread: ${(err as Error).message}`);
    }
    return new TrainThreads(started);
  }

  get count(): number {
    return this.workers.length;
  }

  /** Sends one request to helper `index` and waits for its reply; a thread that fails or exits rejects it. */
  private request(index: number, request: TrainWorkerRequest, transfer: ArrayBuffer[]): Promise<TrainWorkerReply> {
    const worker = this.workers[index];
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new ThreadFailure(`a training thread failed: ${err.message}`));
      const onExit = (code: number) => reject(new ThreadFailure(`a training thread stopped (exit code ${code})`));
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.once('message', (reply: TrainWorkerReply) => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (reply.type === 'failed') reject(new ThreadFailure(`a training thread failed: ${reply.message}`));
        else resolve(reply);
      });
      worker.postMessage(request, transfer);
    });
  }

  async step(index: number, weights: [HeadTensorName, Float32Array][], part: StepPart): Promise<{ loss: number; grads: Map<HeadTensorName, Float32Array> }> {
    const reply = await this.request(index, { type: 'step', weights, part }, part.inputs.map((l) => l.buffer as ArrayBuffer));
    if (reply.type !== 'grads') throw new ThreadFailure('a training thread gave an unexpected reply');
    return { loss: reply.loss, grads: new Map(reply.grads) };
  }

  /** The base's pyramid of one photo, read (or taken from the cache) by helper `index`. */
  async features(index: number, file: string, variant: PhotoVariant, cacheDir: string | undefined): Promise<FeatureSample> {
    const reply = await this.request(index, { type: 'features', file, variant, cacheDir }, []);
    if (reply.type === 'photo-failed') throw new Error(reply.message);
    if (reply.type !== 'features') throw new ThreadFailure('a training thread gave an unexpected reply');
    return { features: reply.features, box: reply.box, flipped: reply.flipped };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** COCO AP of the head on held-out photos, boxes mapped back to source pixels as the Detector does. */
function validate(
  params: HeadParams,
  val: { image: TrainImage; sample: FeatureSample }[],
  categories: { id: number; name: string }[],
  levels: Level[],
  inputShapes: BaseOutputShape[],
  input: { width: number; height: number },
  nms: { iouThreshold: number; singleInstanceClasses: ReadonlySet<number> },
): ValidationResult {
  const numClasses = categories.length;
  const wanted = new Set(categories.map((_, i) => i));
  const dts: { imageId: number; categoryId: number; bbox: [number, number, number, number]; score: number }[] = [];
  const batch = 8;
  for (let i = 0; i < val.length; i += batch) {
    const chunk = val.slice(i, i + batch);
    const feats = tf.tidy(() => standardisedPyramid(batchTensors(chunk.map((v) => v.sample), inputShapes), params, false));
    const context = tf.tidy(() => contextBias(feats[feats.length - 1], params, false));
    const raws = feats.map((f) => {
      const r = tf.tidy(() => headLevel(f, params, false, context));
      const data = r.dataSync() as Float32Array;
      const k = r.shape[2];
      r.dispose();
      return { data, k };
    });
    tf.dispose([...feats, ...(context ? [context] : [])]);
    chunk.forEach((v, bi) => {
      const lv: NanodetLevel[] = levels.map((l, li) => {
        const cells = l.rows * l.cols;
        const { data, k } = raws[li];
        const scores = new Float32Array(cells * numClasses);
        const distances = new Float32Array(cells * 4 * BINS);
        for (let c = 0; c < cells; c++) {
          const o = (bi * cells + c) * k;
          scores.set(data.subarray(o, o + numClasses), c * numClasses);
          distances.set(data.subarray(o + numClasses, o + k), c * 4 * BINS);
        }
        return { stride: l.stride, cols: l.cols, rows: l.rows, scores, distances };
      });
      const candidates = decodeNanodet(lv, numClasses, BINS, AP_MIN_SCORE, wanted, input.width, input.height, true);
      for (const c of classwiseNms(candidates, nms.iouThreshold, { maxKeep: 100, minScore: AP_MIN_SCORE, singleInstanceClasses: nms.singleInstanceClasses })) {
        const bbox = boxToSource(v.sample.box, c.x1, c.y1, c.x2, c.y2);
        if (bbox[2] < 1 || bbox[3] < 1) continue;
        dts.push({ imageId: v.image.id, categoryId: categories[c.classIndex].id, bbox, score: c.score });
      }
    });
  }
  const gts = val.flatMap((v) => v.image.boxes.map((b) => ({ imageId: v.image.id, categoryId: b.categoryId, bbox: b.bbox })));
  const result = evaluateBoxes(val.map((v) => v.image.id).sort((a, b) => a - b), categories, gts, dts);
  return {
    images: val.length,
    ap: result.ap,
    ap50: result.ap50,
    ap75: result.ap75,
    perCategory: result.perCategory.map((c: CategoryEval) => ({ name: c.name, gtCount: c.gtCount, ap: c.ap, ap50: c.ap50 })),
    bestF1: result.bestF1,
  };
}

async function saveCheckpoint(out: string, state: CheckpointState, params: HeadParams, optimizers: Optimizers): Promise<void> {
  const named: { name: string; tensor: tf.Tensor }[] = [
    ...headTensorNames(state.settings).map((n) => ({ name: `head/${n}`, tensor: params[n]! })),
    ...(await optimizers.head.getWeights()).map((w) => ({ name: `adam/${w.name}`, tensor: w.tensor })),
    ...(state.settings.tailUnits > 0 ? await optimizers.tail.getWeights() : []).map((w) => ({ name: `adamTail/${w.name}`, tensor: w.tensor })),
  ];
  // Everything is stored as float32, Adam's int32 iteration count included (exact up to 2^24 steps).
  const buffers = named.map((w) => Buffer.from(Float32Array.from(w.tensor.dataSync()).buffer));
  writeFileAtomic(path.join(out, CHECKPOINT_BIN), Buffer.concat(buffers));
  state.tensors = named.map((w) => ({ name: w.name, shape: w.tensor.shape }));
  writeFileAtomic(path.join(out, CHECKPOINT_JSON), JSON.stringify(state, null, 2) + '\n');
}

function readCheckpoint(out: string): { state: CheckpointState; tensors: Map<string, tf.Tensor> } | undefined {
  const jsonFile = path.join(out, CHECKPOINT_JSON);
  if (!fs.existsSync(jsonFile)) return undefined;
  const state = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as CheckpointState;
  // Checkpoints from before --tune-tail trained the head only.
  state.settings.tailUnits ??= 0;
  state.settings.tailLearningRate ??= 0.1;
  const bin = fs.readFileSync(path.join(out, CHECKPOINT_BIN));
  const tensors = new Map<string, tf.Tensor>();
  let offset = 0;
  for (const t of state.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    Buffer.from(data.buffer).set(bin.subarray(offset, offset + size * 4));
    offset += size * 4;
    tensors.set(t.name, t.name === 'adam/iter' ? tf.scalar(Math.round(data[0]), 'int32') : tf.tensor(data, t.shape));
  }
  if (offset !== bin.length) throw new Error(`${path.join(out, CHECKPOINT_BIN)} does not match ${jsonFile}: delete both to start over`);
  return { state, tensors };
}

function sameSettings(a: Settings, b: Settings): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])] as (keyof Settings)[];
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

/**
 * Trains a head on the frozen feature pyramid of an installed NanoDet model for the categories of a
 * COCO file, and writes a model folder (manifest, head weights, model card, metrics). A checkpoint
 * is written each epoch and on stop; run again with the same `out` to resume.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const log = opts.log ?? (() => {});
  const out = path.resolve(opts.out);
  const epochs = opts.epochs ?? 40;
  const valSplit = opts.valSplit ?? 0.15;
  if (!(valSplit >= 0 && valSplit < 1)) throw new UsageError('--val-split must be from 0 to below 1');
  if (!Number.isInteger(epochs) || epochs < 1) throw new UsageError('--epochs must be a whole number of at least 1');
  if (fs.existsSync(path.join(out, 'manifest.json')) && !fs.existsSync(path.join(out, CHECKPOINT_JSON))) {
    throw new UsageError(`${out} already holds a trained model: choose another --out, or delete it to train again`);
  }

  const set = readTrainSet(opts.annotations, opts.images);
  for (const s of set.skipped.slice(0, 5)) log(`skipping ${s.fileName}: ${s.reason}`);
  if (set.skipped.length > 5) log(`... and ${set.skipped.length - 5} more pictures not found`);
  // Labelled once per photo in this data: the model's further boxes of these are scored down.
  const singleInstance = singleInstanceCategories(set);
  const nmsSettings = { iouThreshold: 0.6, singleInstanceClasses: new Set(singleInstance.map((id) => set.categories.findIndex((c) => c.id === id))) };
  if (singleInstance.length > 0) {
    const names = singleInstance.map((id) => set.categories.find((c) => c.id === id)!.name);
    log(`labelled once per photo in this data, so a second box of these is scored down: ${names.join(', ')}`);
  }

  const baseModel = resolveModel(opts.base ?? NANODET_FPN.model);
  if (baseModel.manifest.id !== NANODET_FPN.model || baseModel.manifest.format !== 'tfjs-graph') {
    throw new UsageError(`--base ${baseModel.manifest.id}: training starts from coco-nanodet's feature pyramid only`);
  }
  await initBackend();

  const settings: Settings = {
    annotations: path.resolve(opts.annotations),
    annotationsSha256: sha256(opts.annotations),
    images: path.resolve(opts.images),
    base: baseModel.manifest.id,
    input: opts.input ?? inputSizeFor(set.images),
    width: opts.width ?? 64,
    context: opts.context ?? true,
    tailUnits: opts.tailUnits ?? 0,
    tailLearningRate: opts.tailLearningRate ?? 0.1,
    repeatThreshold: opts.repeatThreshold ?? 0.3,
    bins: BINS,
    batchSize: opts.batchSize ?? 8,
    learningRate: opts.learningRate ?? 2e-3,
    valSplit,
    seed: opts.seed ?? 0,
    zoomOut: opts.zoomOut ?? 0.8,
  };
  if (!(Number.isInteger(settings.tailUnits) && settings.tailUnits >= 0 && settings.tailUnits <= MAX_TAIL_UNITS)) throw new UsageError(`--tune-tail: from 1 to ${MAX_TAIL_UNITS} units`);
  if (!(settings.zoomOut > 0.3 && settings.zoomOut <= 1)) throw new UsageError('--zoom-out must be above 0.3 and at most 1');
  const resumed = readCheckpoint(out);
  if (resumed) {
    const differs = sameSettings(resumed.state.settings, settings);
    if (differs.length > 0) {
      tf.dispose([...resumed.tensors.values()]);
      throw new UsageError(`${out} holds a checkpoint of a different training (${differs.join(', ')} differ): use another --out, or delete ${CHECKPOINT_JSON} there to start over`);
    }
    log(`resuming from ${path.join(out, CHECKPOINT_JSON)}: epoch ${resumed.state.epoch + 1}, step ${resumed.state.step}`);
  }
  fs.mkdirSync(out, { recursive: true });

  const { width: inW, height: inH } = settings.input;
  const baseSpec = nanodetBaseSpec(baseModel.manifest, inW, inH, settings.tailUnits);
  const graph = await loadBaseGraph(baseModel.dir, baseModel.manifest.modelFile, inW, inH, baseSpec.int32Overrides);
  const input: ModelManifest['input'] = { ...baseModel.manifest.input, width: inW, height: inH };
  const extractor: FeatureExtractor = {
    graph,
    outputs: baseSpec.outputs,
    input,
    fingerprint: [baseModel.manifest.id, ...baseModel.manifest.weights.map((w) => w.sha256), inW, inH, ...baseSpec.outputs].join(':'),
  };
  const cacheDir = opts.cacheDir === false ? undefined : (opts.cacheDir ?? path.join(os.tmpdir(), 'fashion-detect-features'));
  const levels = pyramidLevels(inW, inH, NANODET_FPN.strides);
  const cells = cellCount(levels);
  const channels = NANODET_FPN.channels;
  const numClasses = set.categories.length;
  const { train: trainImages, val: valImages } = splitTrainVal(set.images, valSplit, settings.seed);

  const shape: HeadShape = { inChannels: channels, width: settings.width, numClasses, bins: BINS, context: settings.context, tailUnits: settings.tailUnits };
  const trainable = headTensorNames(shape).filter((n) => n !== 'featureMean' && n !== 'featureStd');
  const tailNames = new Set<HeadTensorName>(TAIL_TENSORS);
  // What a sample holds: the pyramid's levels, or the parts before the tail.
  const inputShapes: BaseOutputShape[] =
    settings.tailUnits > 0
      ? tailBaseParts(settings.tailUnits).map((p) => ({ ...levels.find((l) => l.stride === p.stride)!, channels: p.channels }))
      : levels.map((l) => ({ ...l, channels }));
  const geometry: StepGeometry = { levels, inputs: inputShapes, tail: settings.tailUnits > 0, cells, numClasses, bins: BINS };
  const threadCount = Math.max(1, Math.min(settings.batchSize, opts.threads ?? (tf.getBackend() === 'tensorflow' ? 1 : os.availableParallelism())));
  const shapes = headTensorShapes(shape);
  const helpers =
    threadCount > 1
      ? await TrainThreads.start(threadCount - 1, {
          geometry,
          shapes: trainable.map((n) => [n, shapes[n]!]),
          base: { dir: baseModel.dir, modelFile: baseModel.manifest.modelFile, overrides: baseSpec.int32Overrides, input, outputs: extractor.outputs, fingerprint: extractor.fingerprint },
        })
      : undefined;
  try {
    return await trainWithThreads();
  } finally {
    graph.dispose();
    await helpers?.close();
  }

  async function trainWithThreads(): Promise<TrainResult> {
    // The pyramid of every photo, of every training photo mirrored and (scale augmentation) smaller:
    // augmentation that a frozen base is given exactly, by reading the photo so.
    const plain = { flip: false, zoom: 1 };
    const jobs = [
      ...trainImages.flatMap((image, i) => [
        { image, variant: plain },
        { image, variant: { flip: true, zoom: 1 } },
        ...(settings.zoomOut < 1 ? [{ image, variant: { flip: i % 2 === 1, zoom: settings.zoomOut } }] : []),
      ]),
      ...valImages.map((image) => ({ image, variant: plain })),
    ];
    // Every thread takes the next photo until none is left; results keep the order of `jobs`.
    const read: (FeatureSample | undefined)[] = new Array(jobs.length);
    const featureStart = performance.now();
    let lastReport = 0;
    let nextJob = 0;
    let finished = 0;
    const readWith = async (compute: (file: string, variant: PhotoVariant) => Promise<FeatureSample>) => {
      while (nextJob < jobs.length && !opts.signal?.aborted) {
        const i = nextJob++;
        const job = jobs[i];
        try {
          read[i] = await compute(job.image.file, job.variant);
        } catch (err) {
          if (err instanceof ThreadFailure) throw err;
          if (job.variant === plain) log(`skipping ${job.image.fileName}: ${(err as Error).message}`);
        }
        finished++;
        const now = performance.now();
        if (now - lastReport > 1000 || finished === jobs.length) {
          lastReport = now;
          const rate = finished / ((now - featureStart) / 1000);
          opts.onProgress?.({ phase: 'features', epoch: 0, epochs, step: finished, steps: jobs.length, etaSeconds: (jobs.length - finished) / rate });
        }
      }
    };
    await Promise.all([
      readWith((file, variant) => photoFeatures(extractor, file, variant, cacheDir)),
      ...Array.from({ length: helpers?.count ?? 0 }, (_, t) => readWith((file, variant) => helpers!.features(t, file, variant, cacheDir))),
    ]);
    const samples = jobs.flatMap((job, i) => (read[i] ? [{ image: job.image, zoomed: job.variant.zoom !== 1, sample: read[i]! }] : []));
    if (opts.signal?.aborted) {
      log('stopped while reading photos; nothing trained yet (the features read so far are cached)');
      return { status: 'stopped', out, epochsDone: resumed?.state.epoch ?? 0, epochs, trainSeconds: resumed?.state.trainSeconds ?? 0 };
    }
    const valIds = new Set(valImages.map((i) => i.id));
    const trainSamples = samples.filter((s) => !valIds.has(s.image.id));
    const valSamples = samples.filter((s) => valIds.has(s.image.id)).map((s) => ({ image: s.image, sample: s.sample }));
    const trainTargets = trainSamples.map((s) => targetsFor(s.image, s.sample, levels));
    // Each training photo's variants (plain, mirrored, smaller): an epoch shows a photo as one of them.
    const photoIds = [...new Set(trainSamples.map((s) => s.image.id))];
    const variants = new Map<number, number[]>();
    trainSamples.forEach((s, i) => variants.set(s.image.id, [...(variants.get(s.image.id) ?? []), i]));

    let params: HeadParams;
    if (resumed) {
      params = Object.fromEntries(headTensorNames(shape).map((n) => [n, resumed.tensors.get(`head/${n}`)!])) as HeadParams;
    } else {
      const tail = settings.tailUnits > 0 ? pretrainedTail(graph, settings.tailUnits) : undefined;
      const some = trainSamples.filter((s) => !s.sample.flipped && !s.zoomed).slice(0, 200).map((s) => s.sample);
      const stats = featureStatistics(tail ? some.map((s) => pyramidData(s, inputShapes, tail)) : some.map((s) => s.features), channels);
      params = initHead(shape, stats.mean, stats.std, settings.seed, tail);
    }
    const variables = new Map<HeadTensorName, tf.Variable>();
    for (const n of trainable) {
      const v = tf.variable(params[n]!, true, `head-${n}-${Date.now()}`);
      params[n]!.dispose();
      params[n] = v;
      variables.set(n, v);
    }
    // The tail has its own optimiser: the same schedule at a share of the head's learning rate.
    const optimizers = { head: tf.train.adam(settings.learningRate), tail: tf.train.adam(settings.learningRate * settings.tailLearningRate) };
    if (resumed) {
      for (const [key, optimizer] of Object.entries(optimizers)) {
        const prefix = key === 'head' ? 'adam/' : 'adamTail/';
        const adam = resumed.state.tensors.filter((t) => t.name.startsWith(prefix)).map((t) => ({ name: t.name.slice(prefix.length), tensor: resumed.tensors.get(t.name)! }));
        // Adam's slots follow the variable order of the first update; they are restored in that order.
        if (adam.length > 1) await optimizer.setWeights(adam);
      }
    }

    const repeats = repeatFactors(trainImages, numClasses, settings.repeatThreshold);
    // Photos an epoch, with repeats: fixed, so steps and ETA are known ahead (the rounding is random).
    const perEpoch = Math.round(photoIds.reduce((n, id) => n + repeats.get(id)!, 0));
    const steps = Math.ceil(perEpoch / settings.batchSize);
    const totalSteps = steps * epochs;
    const state: CheckpointState = resumed?.state ?? {
      version: 1,
      settings,
      epochs,
      epoch: 0,
      step: 0,
      trainSeconds: 0,
      history: [],
      stepLossSum: 0,
      tensors: [],
    };
    state.epochs = epochs;
    log(
      `training ${numClasses} categories on ${photoIds.length} photos (${valSamples.length} held out for validation), ` +
        `input ${inW}x${inH}, ${epochs} epochs of ${steps} steps, ${threadCount} thread${threadCount > 1 ? 's' : ''}`,
    );

    const featureMean = params.featureMean.dataSync() as Float32Array;
    const featureStd = params.featureStd.dataSync() as Float32Array;
    /** One optimiser step on the photos `picks`, the batch shared among the threads; returns the loss. */
    const trainStep = async (picks: number[]): Promise<number> => {
      const norm = Math.max(1, picks.reduce((n, i) => n + trainTargets[i].cells.length, 0));
      const threads = Math.min(threadCount, picks.length);
      const parts: StepPart[] = Array.from({ length: threads }, (_, t) => {
        const mine = picks.filter((_, k) => k % threads === t);
        return { inputs: batchBaseOutputs(mine.map((i) => trainSamples[i].sample), inputShapes), featureMean, featureStd, targets: mine.map((i) => trainTargets[i]), norm };
      });
      const weights = parts.length > 1 ? trainable.map((n) => [n, variables.get(n)!.dataSync() as Float32Array] as [HeadTensorName, Float32Array]) : [];
      // The weights are copied into each message (only the feature data is transferred).
      const others = parts.slice(1).map((part, t) => helpers!.step(t, weights, part));
      const results = [partGradients(variables, parts[0], geometry), ...(await Promise.all(others))];
      const grads = { head: [] as { name: string; tensor: tf.Tensor }[], tail: [] as { name: string; tensor: tf.Tensor }[] };
      for (const n of trainable) {
        const sum = results[0].grads.get(n)!;
        for (const r of results.slice(1)) {
          const g = r.grads.get(n)!;
          for (let i = 0; i < sum.length; i++) sum[i] += g[i];
        }
        grads[tailNames.has(n) ? 'tail' : 'head'].push({ name: variables.get(n)!.name, tensor: tf.tensor(sum, variables.get(n)!.shape) });
      }
      optimizers.head.applyGradients(grads.head);
      if (grads.tail.length > 0) optimizers.tail.applyGradients(grads.tail);
      tf.dispose([...grads.head, ...grads.tail].map((g) => g.tensor));
      return results.reduce((n, r) => n + r.loss, 0);
    };

    let sessionSteps = 0;
    let sessionSeconds = 0;
    let stopped = false;
    const lastVal = () => state.history.at(-1)?.valAp50 ?? null;
    // The last epoch's validation is the final model's: it is not run twice.
    let lastValidation: ValidationResult | undefined;
    while (state.epoch < epochs && !stopped) {
      const random = seededRandom(settings.seed * 7919 + state.epoch + 1);
      const shown = photoIds.flatMap((id) => {
        const r = repeats.get(id)!;
        return Array<number>(Math.floor(r) + (random() < r - Math.floor(r) ? 1 : 0)).fill(id);
      });
      // Rounding may give a few photos more or fewer than the fixed count: cut, or top up at random.
      while (shown.length < perEpoch) shown.push(photoIds[Math.floor(random() * photoIds.length)]);
      const order = shuffled(shown, random).slice(0, perEpoch).map((id) => {
        const v = variants.get(id)!;
        const zoomed = v.filter((i) => trainSamples[i].zoomed);
        const full = v.filter((i) => !trainSamples[i].zoomed);
        const pool = zoomed.length > 0 && random() < 0.25 ? zoomed : full;
        return pool[Math.floor(random() * pool.length)];
      });
      const epochStart = performance.now();
      for (; state.step < steps; state.step++) {
        // The steps are synchronous: yield once a step so that Ctrl-C (a signal event) is seen.
        await new Promise((resolve) => setImmediate(resolve));
        if (opts.signal?.aborted) {
          stopped = true;
          break;
        }
        const t0 = performance.now();
        const picks = order.slice(state.step * settings.batchSize, (state.step + 1) * settings.batchSize);
        const globalStep = state.epoch * steps + state.step;
        const rate = learningRateAt(globalStep, totalSteps, settings.learningRate);
        (optimizers.head as unknown as { learningRate: number }).learningRate = rate;
        (optimizers.tail as unknown as { learningRate: number }).learningRate = rate * settings.tailLearningRate;
        const loss = await trainStep(picks);
        if (!Number.isFinite(loss)) throw new Error(`the loss became ${loss} at epoch ${state.epoch + 1}, step ${state.step + 1}: try a lower --learning-rate`);
        state.stepLossSum += loss;
        const seconds = (performance.now() - t0) / 1000;
        sessionSteps++;
        sessionSeconds += seconds;
        state.trainSeconds += seconds;
        const perStep = sessionSeconds / sessionSteps;
        opts.onProgress?.({
          phase: 'train',
          epoch: state.epoch + 1,
          epochs,
          step: state.step + 1,
          steps,
          loss: state.stepLossSum / (state.step + 1),
          valAp50: lastVal(),
          etaSeconds: perStep * (totalSteps - globalStep - 1) + (epochs - state.epoch) * 2,
        });
      }
      if (stopped) break;
      const val = valSamples.length > 0 ? validate(params, valSamples, set.categories, levels, inputShapes, settings.input, nmsSettings) : undefined;
      lastValidation = val;
      state.history.push({
        epoch: state.epoch + 1,
        loss: state.stepLossSum / steps,
        valAp50: val?.ap50 ?? null,
        valAp: val?.ap ?? null,
        seconds: (performance.now() - epochStart) / 1000,
      });
      log(
        `epoch ${state.epoch + 1}/${epochs}: loss ${(state.stepLossSum / steps).toFixed(4)}` +
          (val ? `, validation AP50 ${fmt(val.ap50)}, AP ${fmt(val.ap)}` : '') +
          `, ${formatDuration(state.trainSeconds)} so far`,
      );
      state.epoch++;
      state.step = 0;
      state.stepLossSum = 0;
      await saveCheckpoint(out, state, params, optimizers);
    }

    if (stopped) {
      await saveCheckpoint(out, state, params, optimizers);
      log(`stopped at epoch ${state.epoch + 1}, step ${state.step}; the checkpoint is saved: run the same command to resume`);
      disposeAll(params, optimizers);
      return { status: 'stopped', out, epochsDone: state.epoch, epochs, trainSeconds: state.trainSeconds };
    }

    // Resumed after the last epoch's checkpoint, no epoch ran in this session: validate here.
    const validation = lastValidation ?? (valSamples.length > 0 ? validate(params, valSamples, set.categories, levels, inputShapes, settings.input, nmsSettings) : undefined);
    const weights = saveHead(out, HEAD_NAME, shape, params);
    const id = modelId(out, opts.id);
    const manifest: ModelManifest = {
      id,
      name: opts.name ?? `${id}: ${numClasses} categories, head trained on coco-nanodet's feature pyramid`,
      version: opts.modelVersion ?? '1.0.0',
      format: 'fpn-head',
      modelFile: `${HEAD_NAME}.json`,
      base: baseSpec,
      input,
      output: { decoder: 'nanodet', strides: NANODET_FPN.strides, bins: BINS, scoreActivation: 'none', iouThreshold: nmsSettings.iouThreshold },
      labels: set.categories.map((c) => c.name),
      categories: set.categories,
      ...(singleInstance.length > 0 ? { singleInstanceCategories: singleInstance } : {}),
      license: opts.license ?? `head trained with fashion-detect on ${path.basename(opts.annotations)}; base ${baseModel.manifest.license}`,
      // No `npm` here: the weights are this folder's own; the base's npm source is in its own manifest.
      source: { trainedBy: `fashion-detect train on ${path.basename(opts.annotations)}, base ${baseModel.manifest.id} (${baseModel.manifest.source.npm ?? 'local'})` },
      weights,
      ...(validation?.bestF1 ? { defaultMinScore: Math.round(validation.bestF1.minScore * 100) / 100 } : {}),
    };
    const metrics = {
      data: {
        annotations: path.basename(opts.annotations),
        annotationsSha256: settings.annotationsSha256,
        photos: set.images.length,
        trainPhotos: photoIds.length,
        validationPhotos: valSamples.length,
        boxes: set.annotationCount,
        boxesPerCategory: Object.fromEntries(set.categories.map((c, i) => [c.name, set.images.reduce((n, im) => n + im.boxes.filter((b) => b.classIndex === i).length, 0)])),
      },
      settings: { ...settings, annotations: path.basename(settings.annotations), images: path.basename(settings.images), epochs },
      trainSeconds: Math.round(state.trainSeconds),
      backend: tf.getBackend(),
      threads: threadCount,
      history: state.history,
      validation,
    };
    writeFileAtomic(path.join(out, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
    const baseDescription = `${baseModel.manifest.name}; ${baseModel.manifest.source.npm ?? 'installed locally'}; ${baseModel.manifest.license}`;
    writeModelCard(path.join(out, 'MODEL_CARD.md'), { manifest, metrics, citation: opts.citation, baseDescription });
    writeFileAtomic(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    fs.rmSync(path.join(out, CHECKPOINT_JSON), { force: true });
    fs.rmSync(path.join(out, CHECKPOINT_BIN), { force: true });
    disposeAll(params, optimizers);
    log(`wrote ${out} (validation AP50 ${fmt(validation?.ap50 ?? null)}, AP ${fmt(validation?.ap ?? null)}) in ${formatDuration(state.trainSeconds)} of training`);
    return { status: 'finished', out, epochsDone: state.epoch, epochs, validation, trainSeconds: state.trainSeconds };
  }
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined ? 'n/a' : v.toFixed(3);
}

function disposeAll(params: HeadParams, optimizers: Optimizers): void {
  tf.dispose(Object.values(params));
  optimizers.head.dispose();
  optimizers.tail.dispose();
}

export { headTensorShapes };
