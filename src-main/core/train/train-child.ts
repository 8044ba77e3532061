// A training in a process of its own (child_process.fork), so that the app's window and its labeller
// never wait on it; the app lowers its priority below the labeller's. One request per process:
//   parent -> child  {type: 'start', request}   then, at any time, {type: 'stop'}
//   child -> parent  {type: 'log', line}, {type: 'progress', progress}, {type: 'compare', done, total},
//                    then one of {type: 'finished', result, comparison}, {type: 'stopped', result},
//                    {type: 'failed', message}; and it exits.
// The parent going away (the app crashed or was killed) stops the training as a stop does: the
// checkpoint is saved at the next step.
import os from 'node:os';
import { describeError } from '../base/errors.js';
import { resolveModel } from '../models/registry.js';
import { compareOnHeldBack, type ModelComparison } from './compare.js';
import { readTrainSet } from './dataset.js';
import { train, type TrainOptions, type TrainProgress, type TrainResult } from './train.js';

/** The training's options as they cross to the child (plain data), and the model to compare the new one with. */
export interface ChildTrainRequest {
  options: Omit<TrainOptions, 'signal' | 'onProgress' | 'log'>;
  /** The model in use (id or folder): measured against the new one on the held-back photos. */
  compareWith?: string;
}

export type ChildMessage = { type: 'start'; request: ChildTrainRequest } | { type: 'stop' };

export type ChildReply =
  | { type: 'log'; line: string }
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'compare'; done: number; total: number }
  | { type: 'finished'; result: TrainResult; comparison: ModelComparison | null }
  | { type: 'stopped'; result: TrainResult }
  | { type: 'failed'; message: string };

/** Option keys as the app's form names them: the app gives every option itself, so these are rare. */
const optionName = (key: string) => (key === 'cacheDir' ? "the command line's train --no-cache" : key);

async function run(request: ChildTrainRequest, signal: AbortSignal, send: (reply: ChildReply) => void): Promise<void> {
  const result = await train({ ...request.options, signal, onProgress: (progress) => send({ type: 'progress', progress }), log: (line) => send({ type: 'log', line }) });
  if (result.status === 'stopped') {
    send({ type: 'stopped', result });
    return;
  }
  let comparison: ModelComparison | undefined;
  if (request.compareWith && result.split && !signal.aborted) {
    try {
      const set = readTrainSet(request.options.annotations, request.options.images);
      comparison = await compareOnHeldBack(resolveModel(request.compareWith), resolveModel(result.out), set, result.split.val, {
        signal,
        onProgress: (done, total) => send({ type: 'compare', done, total }),
      });
    } catch (err) {
      send({ type: 'log', line: `the comparison with ${request.compareWith} could not be made: ${(err as Error).message}` });
    }
  }
  send({ type: 'finished', result, comparison: comparison ?? null });
}

function main(): void {
  // Below the window and the labeller, before any helper thread starts (threads inherit it).
  try {
    os.setPriority(19);
  } catch {
    // not allowed here: the parent's setting stands
  }
  const abort = new AbortController();
  let started = false;
  let lastSent: Promise<void> = Promise.resolve();
  const send = (reply: ChildReply) => {
    if (!process.connected) return;
    lastSent = new Promise((resolve) => process.send!(reply, undefined, {}, () => resolve()));
  };
  process.on('disconnect', () => abort.abort());
  process.on('message', (message: ChildMessage) => {
    if (message.type === 'stop') abort.abort();
    else if (message.type === 'start' && !started) {
      started = true;
      run(message.request, abort.signal, send)
        .catch((err) => send({ type: 'failed', message: describeError(err, optionName) }))
        .finally(async () => {
          // The last reply written, the channel closes and nothing keeps the process.
          await lastSent;
          if (process.connected) process.disconnect();
          setTimeout(() => process.exit(0), 2000).unref();
        });
    }
  });
}

if (require.main === module) main();
