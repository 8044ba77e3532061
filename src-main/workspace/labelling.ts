// Labelling the open photos on core's labelling queue: the detector pool of the model in use (started
// on first need, or at once by warmUp; a new one when the model changes), each photo's state while it
// waits and when its boxes come (their categories joined to the workspace's by name, the model that
// found them remembered), and the batch's progress for the window, a few times a second.
import { ApiError, type ApiEvent, type ApiParsedInput, type BatchProgress } from '../contract/api.js';
import { DetectorPool } from '../core/detect/detector-pool.js';
import type { ImageDetections } from '../core/detect/detector.js';
import { LabelQueue, type LabelPool } from '../core/label/label-queue.js';
import type { WorkspaceCategories } from './categories.js';
import { fileSignature, roundBbox, roundScore, type BoxIds, type ImageRecord, type ImageSet } from './image-set.js';
import type { ModelRef, WorkspaceModel } from './model.js';

/** Boxes below this score are not kept at all; the window's confidence slider works above it. */
const DEFAULT_DETECT_MIN_SCORE = 0.15;
const PROGRESS_INTERVAL_MS = 200;

export interface LabellingOptions {
  images: ImageSet;
  model: WorkspaceModel;
  categories: WorkspaceCategories;
  boxIds: BoxIds;
  emit: (event: ApiEvent) => void;
  /** Detector worker threads; one per core when absent. */
  workers?: number;
  detectMinScore?: number;
}

/** A model's detector pool, and the photos it has in hand (it closes once they are back, when the model changed). */
class ModelPool implements LabelPool {
  private inFlight = 0;
  private retired = false;

  constructor(
    readonly pool: DetectorPool,
    readonly model: ModelRef,
    /** Which model found each result's boxes. */
    private readonly sources: WeakMap<ImageDetections, ModelRef>,
  ) {}

  get workerCount(): number {
    return this.pool.workerCount;
  }

  async detect(file: string): Promise<ImageDetections> {
    this.inFlight++;
    try {
      const result = await this.pool.detect(file);
      this.sources.set(result, this.model);
      return result;
    } finally {
      this.inFlight--;
      if (this.retired && this.inFlight === 0) void this.pool.close();
    }
  }

  /** Another model labels from now on: this pool closes once its photos in hand are back. */
  retire(): void {
    this.retired = true;
    if (this.inFlight === 0) void this.pool.close();
  }
}

export class Labelling {
  private pool: ModelPool | null = null;
  private poolStarting: Promise<ModelPool> | null = null;
  /** Bumped when the model changes: a pool still starting for the old one is closed when it is ready. */
  private modelGeneration = 0;
  /** Pools of earlier models still finishing their photos. */
  private readonly retired = new Set<ModelPool>();
  private readonly sources = new WeakMap<ImageDetections, ModelRef>();
  private readonly queue: LabelQueue<ImageRecord>;
  private lastProgress = 0;
  private progressTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: LabellingOptions) {
    const { images, emit } = options;
    this.queue = new LabelQueue<ImageRecord>({
      pool: () => this.getPool(),
      fileOf: (img) => img.file,
      onQueued: (img) => {
        img.state = 'labelling';
        img.reason = undefined;
        images.announce(img);
      },
      onCancelled: (img) => {
        if (img.state !== 'labelling') return;
        // A photo that was labelled before (queued to be labelled again) keeps its boxes and state.
        img.state = img.boxes.length > 0 ? 'done' : 'pending';
        images.announce(img);
      },
      onResult: (img, result) => this.labelled(img, result),
      onFailure: (img, reason) => {
        img.state = 'failed';
        img.reason = reason;
        img.failedAs = fileSignature(img.file);
        images.changed(img);
      },
      onPoolFailure: (message) => emit({ type: 'error', message }),
      onProgress: (_batch, milestone) => this.emitProgress(milestone),
    });
  }

  get batch(): BatchProgress {
    return this.queue.batch;
  }

  async labelImages(input: ApiParsedInput<'labelImages'>): Promise<{ queued: number }> {
    const records = input.ids.map((id) => this.options.images.require(id));
    return { queued: this.enqueue(records, true) };
  }

  /**
   * Labels every pending image, and every failed one whose file changed since it failed; with
   * `relabel`, also the photos another model labelled that nobody reviewed (see relabelable).
   */
  async labelAll(input: { relabel?: boolean } = {}): Promise<{ queued: number }> {
    const retry = (img: ImageRecord) => img.state === 'failed' && fileSignature(img.file) !== img.failedAs;
    const again = (img: ImageRecord) => Boolean(input.relabel) && this.isRelabelable(img);
    const pending = [...this.options.images.all()].filter((img) => (img.state === 'pending' || retry(img) || again(img)) && !this.queue.has(img));
    if (this.options.model.problem) throw new ApiError(`cannot label: ${this.options.model.problem}`);
    return { queued: this.enqueue(pending, false) };
  }

  /** A photo another model (or another version) labelled, on which nobody verified a box: labelling it again loses no one's work. */
  isRelabelable(img: ImageRecord): boolean {
    const current = this.options.model.ref;
    if (img.state !== 'done' || !img.labelledBy || !current) return false;
    if (img.labelledBy.id === current.id && img.labelledBy.version === current.version) return false;
    return !img.boxes.some((b) => b.verified);
  }

  /** How many photos "Relabel" would label again. */
  relabelableCount(): number {
    let n = 0;
    for (const img of this.options.images.all()) if (this.isRelabelable(img)) n++;
    return n;
  }

  /**
   * The model in use changed: photos queued from now on go to its pool; the old pool finishes the
   * photos it has in hand (their boxes are that model's, and say so) and closes.
   */
  modelChanged(): void {
    this.modelGeneration++;
    if (this.pool) {
      this.retired.add(this.pool);
      this.pool.retire();
    }
    this.pool = null;
    this.poolStarting = null;
  }

  async cancel(): Promise<{ cancelled: number }> {
    return { cancelled: this.queue.cancel() };
  }

  /** Queues photos: `first` ahead of those waiting (a person asked for them). */
  enqueue(records: ImageRecord[], first: boolean): number {
    return this.queue.enqueue(records, first);
  }

  /** The photo needs no labelling any more (its boxes were imported). */
  withdraw(img: ImageRecord): void {
    this.queue.withdraw(img);
  }

  /** Photos still to label that are not queued. */
  waitingCount(): number {
    let n = 0;
    for (const img of this.options.images.all()) if (img.state === 'pending' && !this.queue.has(img)) n++;
    return n;
  }

  /** Starts the detector workers now, so the first photo dropped is labelled without waiting for the model to load. */
  warmUp(): void {
    if (this.options.model.resolved) this.getPool().catch((err: Error) => this.options.emit({ type: 'error', message: `the detector could not start: ${err.message}` }));
  }

  /** The workspace was closed: the batch is forgotten, and results still to come are dropped. */
  reset(): void {
    this.queue.reset();
  }

  /** The app is quitting: nothing more is sent to the detector (photos in flight may still finish). */
  stopSending(): void {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.queue.clear();
  }

  async close(): Promise<void> {
    this.queue.close();
    const pool = this.pool ?? (this.poolStarting ? await this.poolStarting.catch(() => null) : null);
    await Promise.all([pool, ...this.retired].map((p) => p?.pool.close()));
    this.pool = null;
  }

  private getPool(): Promise<ModelPool> {
    if (this.pool) return Promise.resolve(this.pool);
    if (!this.poolStarting) {
      const model = this.options.model;
      const resolved = model.resolved;
      const ref = model.ref;
      if (!resolved || !ref) return Promise.reject(new Error(model.problem ?? 'no model'));
      const generation = this.modelGeneration;
      const starting = DetectorPool.start(resolved, { workers: this.options.workers, minScore: this.options.detectMinScore ?? DEFAULT_DETECT_MIN_SCORE, hash: true }).then(
        (pool) => {
          const modelPool = new ModelPool(pool, ref, this.sources);
          // The model changed while this one was starting: it finishes nothing, so it closes at once.
          if (generation !== this.modelGeneration) {
            modelPool.retire();
            return this.getPool();
          }
          this.pool = modelPool;
          return modelPool;
        },
        (err) => {
          if (this.poolStarting === starting) this.poolStarting = null;
          throw err;
        },
      );
      this.poolStarting = starting;
    }
    return this.poolStarting;
  }

  private labelled(img: ImageRecord, result: ImageDetections): void {
    // A person's boxes stay; the model's earlier boxes are replaced by this run's.
    const kept = img.boxes.filter((b) => b.verified);
    const { categories, boxIds } = this.options;
    const fresh = result.detections.map((d) => ({ id: boxIds.make(), categoryId: categories.idFor(d.category), score: roundScore(d.score), bbox: roundBbox(d.bbox), verified: false }));
    img.boxes = [...kept, ...fresh];
    img.labelledBy = this.sources.get(result);
    // The detector hashed the picture it decoded: the near-duplicates need no decode of their own.
    if (result.hash) img.hash = result.hash;
    img.width = result.width;
    img.height = result.height;
    img.state = 'done';
    img.reason = undefined;
    this.options.images.changed(img);
  }

  /** Now for a start, a cancel or an end; for a photo done, at most every PROGRESS_INTERVAL_MS. */
  private emitProgress(now: boolean): void {
    const send = () => {
      this.progressTimer = null;
      this.lastProgress = performance.now();
      this.options.emit({ type: 'progress', batch: this.queue.batch });
    };
    if (now || performance.now() - this.lastProgress >= PROGRESS_INTERVAL_MS) {
      if (this.progressTimer) clearTimeout(this.progressTimer);
      send();
    } else if (!this.progressTimer) {
      this.progressTimer = setTimeout(send, PROGRESS_INTERVAL_MS);
    }
  }
}
