import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TrainedTensorName } from './presence.js';
import { CacheWriteFailure, type FeatureSample, type PhotoVariant } from './features.js';
import type { StepPart } from './step.js';
import type { TrainWorkerReply, TrainWorkerRequest, TrainWorkerSetup } from './train-worker.js';

/** A helper thread failed or stopped: the training cannot go on (unlike a photo that cannot be read). */
export class ThreadFailure extends Error {}

/** Helper threads of a training (train-worker.ts): they read photos through the base and compute parts of each step. */
export class TrainThreads {
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

  async step(index: number, weights: [TrainedTensorName, Float32Array][], part: StepPart): Promise<{ loss: number; grads: Map<TrainedTensorName, Float32Array> }> {
    const reply = await this.request(index, { type: 'step', weights, part }, part.inputs.map((l) => l.buffer as ArrayBuffer));
    if (reply.type !== 'grads') throw new ThreadFailure('a training thread gave an unexpected reply');
    return { loss: reply.loss, grads: new Map(reply.grads) };
  }

  /** The base's pyramid of one photo, read (or taken from the cache) by helper `index`. */
  async features(index: number, file: string, variant: PhotoVariant, cacheDir: string | undefined): Promise<FeatureSample> {
    const reply = await this.request(index, { type: 'features', file, variant, cacheDir }, []);
    if (reply.type === 'photo-failed') throw new Error(reply.message);
    if (reply.type === 'cache-failed') throw new CacheWriteFailure(reply.dir, reply.why);
    if (reply.type !== 'features') throw new ThreadFailure('a training thread gave an unexpected reply');
    return { features: reply.features, box: reply.box, flipped: reply.flipped, ...(reply.body ? { body: reply.body } : {}) };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
