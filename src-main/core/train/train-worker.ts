// A helper thread of `train`: it holds a copy of the head's trainable tensors and computes the
// gradient of its part of each batch, so training uses more than one core on the wasm backend
// (which runs one thread per backend).
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, tf } from '../backend.js';
import type { HeadTensorName } from './head.js';
import { partGradients, type StepGeometry, type StepPart } from './step.js';

export interface TrainWorkerSetup {
  geometry: StepGeometry;
  shapes: [HeadTensorName, number[]][];
}
export type TrainWorkerRequest = { type: 'step'; weights: [HeadTensorName, Float32Array][]; part: StepPart };
export type TrainWorkerReply =
  | { type: 'ready' }
  | { type: 'grads'; loss: number; grads: [HeadTensorName, Float32Array][] }
  | { type: 'failed'; message: string };

const setup = workerData as TrainWorkerSetup;
const port = parentPort!;

async function main(): Promise<void> {
  await initBackend();
  const variables = new Map(setup.shapes.map(([name, shape]) => [name, tf.variable(tf.zeros(shape), true, `worker-${name}`)] as const));
  port.on('message', (request: TrainWorkerRequest) => {
    try {
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
