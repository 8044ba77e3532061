import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../base/atomic-write.js';
import { tf } from '../base/backend.js';
import type { Settings } from './settings.js';
import type { EpochRecord } from './types.js';

/**
 * A training's checkpoint in its model folder, written after each epoch and on stop: checkpoint.json
 * (where the training is, and the tensors' names and shapes) and checkpoint.bin (the tensors, float32).
 */
export const CHECKPOINT_JSON = 'checkpoint.json';
const CHECKPOINT_BIN = 'checkpoint.bin';

export interface CheckpointState {
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

export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export function hasCheckpoint(out: string): boolean {
  return fs.existsSync(path.join(out, CHECKPOINT_JSON));
}

export function saveCheckpoint(out: string, state: CheckpointState, named: readonly NamedTensor[]): void {
  // Everything is stored as float32, Adam's int32 iteration count included (exact up to 2^24 steps).
  const buffers = named.map((w) => Buffer.from(Float32Array.from(w.tensor.dataSync()).buffer));
  writeFileAtomic(path.join(out, CHECKPOINT_BIN), Buffer.concat(buffers));
  state.tensors = named.map((w) => ({ name: w.name, shape: w.tensor.shape }));
  writeFileAtomic(path.join(out, CHECKPOINT_JSON), JSON.stringify(state, null, 2) + '\n');
}

export function readCheckpoint(out: string): { state: CheckpointState; tensors: Map<string, tf.Tensor> } | undefined {
  const jsonFile = path.join(out, CHECKPOINT_JSON);
  if (!fs.existsSync(jsonFile)) return undefined;
  const state = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as CheckpointState;
  // Checkpoints from before the tail could be tuned trained the head only.
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

/** The training finished: its checkpoint goes. */
export function removeCheckpoint(out: string): void {
  fs.rmSync(path.join(out, CHECKPOINT_JSON), { force: true });
  fs.rmSync(path.join(out, CHECKPOINT_BIN), { force: true });
}
