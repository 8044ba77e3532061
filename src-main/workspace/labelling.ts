// Labelling the open photos on core's labelling queue: the detector pool (started on first need,
// or at once by warmUp), each photo's state while it waits and when its boxes come, and the batch's
// progress for the window, a few times a second.
import { ApiError, type ApiEvent, type ApiParsedInput, type BatchProgress } from '../contract/api.js';
import { DetectorPool } from '../core/detect/detector-pool.js';
import type { ImageDetections } from '../core/detect/detector.js';
import { LabelQueue } from '../core/label/label-queue.js';
import { fileSignature, roundBbox, roundScore, type BoxIds, type ImageRecord, type ImageSet } from './image-set.js';
import type { WorkspaceModel } from './model.js';

/** Boxes below this score are not kept at all; the window's confidence slider works above it. */
const DEFAULT_DETECT_MIN_SCORE = 0.15;
const PROGRESS_INTERVAL_MS = 200;

export interface LabellingOptions {
  images: ImageSet;
  model: WorkspaceModel;
  boxIds: BoxIds;
  emit: (event: ApiEvent) => void;
  /** Detector worker threads; one per core when absent. */
  workers?: number;
  detectMinScore?: number;
}

export class Labelling {
  private pool: DetectorPool | null = null;
  private poolStarting: Promise<DetectorPool> | null = null;
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
        img.state = 'pending';
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

  /** Labels every pending image, and every failed one whose file changed since it failed. */
  async labelAll(): Promise<{ queued: number }> {
    const retry = (img: ImageRecord) => img.state === 'failed' && fileSignature(img.file) !== img.failedAs;
    const pending = [...this.options.images.all()].filter((img) => (img.state === 'pending' || retry(img)) && !this.queue.has(img));
    if (this.options.model.problem) throw new ApiError(`cannot label: ${this.options.model.problem}`);
    return { queued: this.enqueue(pending, false) };
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
    await pool?.close();
    this.pool = null;
  }

  private getPool(): Promise<DetectorPool> {
    if (this.pool) return Promise.resolve(this.pool);
    if (!this.poolStarting) {
      const model = this.options.model;
      if (!model.resolved) return Promise.reject(new Error(model.problem ?? 'no model'));
      this.poolStarting = DetectorPool.start(model.resolved, { workers: this.options.workers, minScore: this.options.detectMinScore ?? DEFAULT_DETECT_MIN_SCORE }).then(
        (pool) => {
          this.pool = pool;
          return pool;
        },
        (err) => {
          this.poolStarting = null;
          throw err;
        },
      );
    }
    return this.poolStarting;
  }

  private labelled(img: ImageRecord, result: ImageDetections): void {
    // A person's boxes stay; the model's earlier boxes are replaced by this run's.
    const kept = img.boxes.filter((b) => b.verified);
    const fresh = result.detections.map((d) => ({ id: this.options.boxIds.make(), categoryId: d.categoryId, score: roundScore(d.score), bbox: roundBbox(d.bbox), verified: false }));
    img.boxes = [...kept, ...fresh];
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
