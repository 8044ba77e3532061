// The one labelling queue, for the command line's `label` and the app's workspace: photos wait in
// order (a person's "label these now" goes first), a few per worker are handed to the detector pool
// at a time, and every result, failure and change of progress is told to the owner as it happens.
import { throughput } from '../../common/progress.js';
import { FileProblem } from '../base/errors.js';
import type { ImageDetections } from '../detect/detector.js';

/** What the queue needs of a detector pool (DetectorPool is one). */
export interface LabelPool {
  readonly workerCount: number;
  detect(file: string): Promise<ImageDetections>;
}

/** A batch: the photos queued since the queue was last idle. */
export interface LabelBatch {
  running: boolean;
  done: number;
  failed: number;
  total: number;
  imagesPerSecond: number;
  /** Seconds left at the current rate; null while unknown. */
  etaSeconds: number | null;
  /** Photos were taken out of it before their turn. */
  cancelled: boolean;
}

export interface LabelQueueOptions<T> {
  /** The pool, started when first needed; a rejection fails every photo waiting. */
  pool(): Promise<LabelPool>;
  /** The file of an item, read when its turn comes. */
  fileOf(item: T): string;
  /** Items newly queued, each before the batch's progress says so. */
  onQueued?(item: T): void;
  /** Items taken out of the queue by cancel(). */
  onCancelled?(item: T): void;
  onResult(item: T, result: ImageDetections): void;
  onFailure(item: T, reason: string): void;
  /** The pool could not start: told after the photos waiting failed with `reason`. */
  onPoolFailure?(reason: string): void;
  /**
   * The batch changed. `milestone`: it started, grew, was cancelled or ended; otherwise one photo
   * finished (a caller that shows progress may report those less often).
   */
  onProgress?(batch: LabelBatch, milestone: boolean): void;
}

/** Photos handed to the pool per worker: it decodes the next while the model runs on this one. */
const IN_FLIGHT_PER_WORKER = 2;

const idleBatch = (): LabelBatch => ({ running: false, done: 0, failed: 0, total: 0, imagesPerSecond: 0, etaSeconds: null, cancelled: false });

export class LabelQueue<T> {
  private readonly waiting: T[] = [];
  /** What is in `waiting` (items withdrawn early are skipped when their turn comes). */
  private readonly queued = new Set<T>();
  private inFlight = 0;
  private current = idleBatch();
  private started = 0;
  /** Bumped by reset(): results of photos sent before it are dropped when they come. */
  private generation = 0;
  private closed = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly options: LabelQueueOptions<T>) {}

  /** The batch as last reported (its rate is the one computed then). */
  get batch(): LabelBatch {
    return { ...this.current };
  }

  has(item: T): boolean {
    return this.queued.has(item);
  }

  /** Queues the items not queued yet, first (ahead of those waiting) or last; returns how many. */
  enqueue(items: readonly T[], first: boolean): number {
    const fresh = items.filter((item) => !this.queued.has(item) && (this.queued.add(item), true));
    if (fresh.length === 0) return 0;
    if (!this.current.running) {
      this.current = { ...idleBatch(), running: true };
      this.started = performance.now();
    }
    this.current.total += fresh.length;
    if (first) this.waiting.unshift(...fresh);
    else this.waiting.push(...fresh);
    for (const item of fresh) this.options.onQueued?.(item);
    this.report(true);
    void this.pump();
    return fresh.length;
  }

  /** Takes one item out of the queue before its turn (it needs no labelling any more), quietly. */
  withdraw(item: T): boolean {
    if (!this.queued.delete(item)) return false;
    this.current.total--;
    return true;
  }

  /** Takes every waiting item out of the queue; photos in flight finish. Returns how many were taken. */
  cancel(): number {
    const cancelled = this.takeWaiting();
    for (const item of cancelled) this.options.onCancelled?.(item);
    if (cancelled.length > 0 || this.current.running) {
      this.current.cancelled = true;
      this.current.total -= cancelled.length;
      if (this.inFlight === 0) this.end();
      else this.report(true);
    }
    return cancelled.length;
  }

  /** Takes every waiting item out of the queue, told to nobody; photos in flight finish as usual. */
  clear(): void {
    this.takeWaiting();
  }

  /** Forgets everything, told to nobody: the waiting items, the batch, and the results still to come. */
  reset(): void {
    this.clear();
    this.generation++;
    this.current = idleBatch();
  }

  /** No more photos go to the pool and no result is told any more. */
  close(): void {
    this.closed = true;
    this.clear();
  }

  /** Resolves once nothing is waiting or in flight. */
  idle(): Promise<void> {
    if (this.waiting.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private takeWaiting(): T[] {
    const taken = this.waiting.splice(0).filter((item) => this.queued.has(item));
    this.queued.clear();
    return taken;
  }

  private async pump(): Promise<void> {
    let pool: LabelPool;
    try {
      pool = await this.options.pool();
    } catch (err) {
      this.failWaiting((err as Error).message);
      return;
    }
    while (!this.closed && this.waiting.length > 0 && this.inFlight < pool.workerCount * IN_FLIGHT_PER_WORKER) {
      const item = this.waiting.shift()!;
      if (!this.queued.delete(item)) continue;
      this.send(pool, item);
    }
    // Only items withdrawn early were left: nothing is running.
    if (this.waiting.length === 0 && this.inFlight === 0) this.end();
  }

  private send(pool: LabelPool, item: T): void {
    this.inFlight++;
    const generation = this.generation;
    const current = () => !this.closed && generation === this.generation;
    pool.detect(this.options.fileOf(item)).then(
      (result) => {
        if (!current()) return;
        this.current.done++;
        this.options.onResult(item, result);
        this.report(false);
      },
      (err: Error) => {
        if (!current()) return;
        this.current.failed++;
        this.options.onFailure(item, err instanceof FileProblem ? err.reason : err.message);
        this.report(false);
      },
    ).finally(() => {
      this.inFlight--;
      if (this.waiting.length > 0) void this.pump();
      else if (this.inFlight === 0) this.end();
    });
  }

  private failWaiting(message: string): void {
    const reason = `the detector could not start: ${message}`;
    for (const item of this.takeWaiting()) {
      this.current.failed++;
      this.options.onFailure(item, reason);
      this.report(false);
    }
    this.options.onPoolFailure?.(reason);
    this.end();
  }

  private end(): void {
    if (this.waiting.length === 0 && this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    if (!this.current.running) return;
    this.current.running = false;
    this.report(true);
  }

  private report(milestone: boolean): void {
    const finished = this.current.done + this.current.failed;
    const rate = throughput(finished, this.current.total, (performance.now() - this.started) / 1000);
    this.current.imagesPerSecond = rate.perSecond;
    this.current.etaSeconds = rate.etaSeconds;
    this.options.onProgress?.({ ...this.current }, milestone);
  }
}
