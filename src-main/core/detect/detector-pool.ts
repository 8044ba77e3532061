import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ImageDetections } from './detector.js';
import { FileProblem } from '../base/errors.js';
import type { ResolvedModel } from '../models/registry.js';

export interface WorkerSetup {
  modelDir: string;
  minScore: number;
  /** Also give each photo's perceptual hash (ImageDetections.hash), for callers that keep it. */
  hash: boolean;
}
export type WorkerRequest = { type: 'detect'; id: number; file: string } | { type: 'close' };
export type WorkerReply =
  | { type: 'ready'; backend: string }
  | { type: 'result'; id: number; result: ImageDetections }
  | { type: 'failed'; id: number; file: string; reason: string }
  | { type: 'fatal'; message: string };

interface Task {
  id: number;
  file: string;
  resolve: (r: ImageDetections) => void;
  reject: (e: Error) => void;
}

/** Photos handed to a worker ahead of time, so it decodes the next while the model runs on this one. */
const IN_FLIGHT_PER_WORKER = 2;

/** Compiled worker script: from dist when this module runs from TypeScript sources (tests). */
function workerScript(): string {
  const here = path.join(__dirname, 'detect-worker.js');
  return __filename.endsWith('.ts') ? path.resolve(__dirname, '../../../dist/main/core/detect/detect-worker.js') : here;
}

export function defaultWorkerCount(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

class PoolWorker {
  readonly inFlight = new Map<number, Task>();
  constructor(readonly worker: Worker) {}
}

/**
 * Worker threads, one model each, fed from one queue. A worker that dies takes only its photos in
 * flight with it (they fail with the reason) and is replaced, so a long batch goes on.
 */
export class DetectorPool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  backend = 'unknown';

  private constructor(
    private readonly setup: WorkerSetup,
    private readonly size: number,
  ) {}

  static async start(model: ResolvedModel, options: { workers?: number; minScore: number; hash?: boolean }): Promise<DetectorPool> {
    const pool = new DetectorPool({ modelDir: model.dir, minScore: options.minScore, hash: options.hash ?? false }, options.workers ?? defaultWorkerCount());
    await Promise.all(Array.from({ length: pool.size }, () => pool.spawn()));
    return pool;
  }

  get workerCount(): number {
    return this.size;
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(workerScript(), { workerData: this.setup });
      const pw = new PoolWorker(worker);
      let ready = false;
      worker.on('message', (reply: WorkerReply) => {
        if (reply.type === 'ready') {
          ready = true;
          this.backend = reply.backend;
          this.workers.push(pw);
          resolve();
          this.pump();
        } else if (reply.type === 'fatal') {
          reject(new Error(`detector worker could not start: ${reply.message}`));
          void worker.terminate();
        } else {
          const task = pw.inFlight.get(reply.id);
          if (!task) return;
          pw.inFlight.delete(reply.id);
          if (reply.type === 'result') task.resolve(reply.result);
          else task.reject(new FileProblem(reply.file, reply.reason));
          this.pump();
        }
      });
      worker.on('error', (err) => {
        if (!ready) reject(err);
        this.lose(pw, `the detector worker crashed: ${err.message}`);
      });
      worker.on('exit', (code) => {
        if (!ready) reject(new Error(`detector worker exited with code ${code} before it was ready`));
        else if (!this.closed) this.lose(pw, `the detector worker stopped (exit code ${code})`);
      });
    });
  }

  private lose(pw: PoolWorker, reason: string): void {
    const index = this.workers.indexOf(pw);
    if (index < 0) return;
    this.workers.splice(index, 1);
    for (const task of pw.inFlight.values()) task.reject(new FileProblem(task.file, reason));
    pw.inFlight.clear();
    if (!this.closed) {
      this.spawn().catch((err) => {
        for (const task of this.queue.splice(0)) task.reject(new FileProblem(task.file, `no detector worker: ${err.message}`));
      });
    }
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const free = this.workers
        .filter((w) => w.inFlight.size < IN_FLIGHT_PER_WORKER)
        .sort((a, b) => a.inFlight.size - b.inFlight.size)[0];
      if (!free) return;
      const task = this.queue.shift()!;
      free.inFlight.set(task.id, task);
      free.worker.postMessage({ type: 'detect', id: task.id, file: task.file } satisfies WorkerRequest);
    }
  }

  detect(file: string): Promise<ImageDetections> {
    if (this.closed) return Promise.reject(new Error('the detector pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, file, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error('cancelled'));
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.workers.length = 0;
  }
}
