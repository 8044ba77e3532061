// A helper thread of `train`. The wasm backend runs one thread per backend, so to use more than one
// core `train` shares its work with these: reading photos through the frozen base (each thread has
// its own copy of the base graph), and each step's gradient (each thread holds a copy of the trainable
// tensors and computes the gradient of its part of the batch).
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, tf } from '../base/backend.js';
import type { ModelManifest } from '../models/manifest.js';
import { CacheWriteFailure, photoFeatures, type FeatureExtractor, type FeatureSample, type PhotoVariant } from './features.js';
import { loadBaseGraph } from '../models/fpn-base.js';
import { loadPoseModel } from '../models/pose.js';
import type { TrainedTensorName } from './presence.js';
import type { Letterbox } from '../images/letterbox.js';
import { partGradients, type StepGeometry, type StepPart } from './step.js';

export interface TrainWorkerSetup {
  geometry: StepGeometry;
  shapes: [TrainedTensorName, number[]][];
  /** The frozen base, loaded as `train` loads it. */
  base: {
    dir: string;
    modelFile: string;
    overrides: Record<string, number[]>;
    input: ModelManifest['input'];
    outputs: string[];
    fingerprint: string;
    /** The head takes the wearer's body: the pose model runs on each photo too. */
    pose: boolean;
  };
}
export type TrainWorkerRequest =
  | { type: 'step'; weights: [TrainedTensorName, Float32Array][]; part: StepPart }
  | { type: 'features'; file: string; variant: PhotoVariant; cacheDir?: string };
export type TrainWorkerReply =
  | { type: 'ready' }
  | { type: 'grads'; loss: number; grads: [TrainedTensorName, Float32Array][] }
  | { type: 'features'; features: FeatureSample['features']; box: Letterbox; flipped: boolean; body?: Float32Array }
  /** This photo could not be read: the photo's problem, not the thread's. */
  | { type: 'photo-failed'; message: string }
  /** The feature cache cannot be written: the training's problem. */
  | { type: 'cache-failed'; dir: string; why: string }
  | { type: 'failed'; message: string };

const setup = workerData as TrainWorkerSetup;
const port = parentPort!;

async function main(): Promise<void> {
  await initBackend();
  const variables = new Map(setup.shapes.map(([name, shape]) => [name, tf.variable(tf.zeros(shape), true, `worker-${name}`)] as const));
  let extractor: Promise<FeatureExtractor> | undefined;
  const loadExtractor = async (): Promise<FeatureExtractor> => {
    const b = setup.base;
    const graph = await loadBaseGraph(b.dir, b.modelFile, b.input.width, b.input.height, b.overrides);
    return { graph, outputs: b.outputs, input: b.input, fingerprint: b.fingerprint, pose: b.pose ? await loadPoseModel() : undefined };
  };

  // Requests come one at a time: the caller waits for each reply before sending the next.
  port.on('message', async (request: TrainWorkerRequest) => {
    try {
      if (request.type === 'features') {
        extractor ??= loadExtractor();
        const ready = await extractor;
        let sample;
        try {
          sample = await photoFeatures(ready, request.file, request.variant, request.cacheDir);
        } catch (err) {
          const reply: TrainWorkerReply =
            err instanceof CacheWriteFailure ? { type: 'cache-failed', dir: err.dir, why: err.why } : { type: 'photo-failed', message: err instanceof Error ? err.message : String(err) };
          port.postMessage(reply);
          return;
        }
        // A pyramid in memory moves to the training thread; a cached one stays in its file.
        port.postMessage({ type: 'features', ...sample } satisfies TrainWorkerReply, sample.features instanceof Float32Array ? [sample.features.buffer as ArrayBuffer] : []);
        return;
      }
      for (const [name, data] of request.weights) {
        const variable = variables.get(name)!;
        const value = tf.tensor(data, variable.shape);
        variable.assign(value);
        value.dispose();
      }
      const { loss, grads } = partGradients(variables, request.part, setup.geometry);
      const list = [...grads];
      port.postMessage({ type: 'grads', loss, grads: list } satisfies TrainWorkerReply, list.map(([, g]) => g.buffer as ArrayBuffer));
    } catch (err) {
      port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies TrainWorkerReply);
    }
  });
  port.postMessage({ type: 'ready' } satisfies TrainWorkerReply);
}

main().catch((err) => port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies TrainWorkerReply));
