import { tf } from '../base/backend.js';
import type { HeadParams, HeadTensorName } from '../models/fpn-head.js';
import type { NamedTensor } from './checkpoint.js';

/**
 * An exponential moving average of the model's weights over the optimiser's steps (as Ultralytics'
 * ModelEMA and TensorFlow's ExponentialMovingAverage keep one): the step-to-step noise of the last
 * epochs averages out of it. Validation measures it and the model is written from it.
 *
 * Step t moves the average towards the weights by 1 - d, with d = min(decay, (1 + t) / (4 + t)): early
 * on, when the weights are far from where they end, the average follows them closely (its window is
 * about a third of the steps so far), so that a short training is not held back by its first weights.
 */
export class WeightAverage {
  private readonly averages = new Map<HeadTensorName, Float32Array>();

  private constructor(
    readonly decay: number,
    /** Steps averaged so far. */
    private updates: number,
  ) {}

  /** An average starting at `params`' trainable tensors (`names`). */
  static start(decay: number, params: HeadParams, names: readonly HeadTensorName[]): WeightAverage {
    const average = new WeightAverage(decay, 0);
    for (const n of names) average.averages.set(n, Float32Array.from(params[n]!.dataSync()));
    return average;
  }

  /** The average a checkpoint saved (`averageTensors`' names), or undefined when it saved none. */
  static restore(decay: number, saved: ReadonlyMap<string, tf.Tensor>, names: readonly HeadTensorName[]): WeightAverage | undefined {
    const updates = saved.get(`${PREFIX}updates`);
    if (!updates) return undefined;
    const average = new WeightAverage(decay, Math.round(updates.dataSync()[0]));
    for (const n of names) average.averages.set(n, Float32Array.from(saved.get(`${PREFIX}${n}`)!.dataSync()));
    return average;
  }

  /** The weight of the average so far in the next update. */
  private nextDecay(): number {
    return Math.min(this.decay, (1 + this.updates) / (4 + this.updates));
  }

  /** Moves the average towards `params` after an optimiser step. */
  update(params: HeadParams): void {
    const d = this.nextDecay();
    for (const [n, average] of this.averages) {
      const w = params[n]!.dataSync() as Float32Array;
      for (let i = 0; i < average.length; i++) average[i] = d * average[i] + (1 - d) * w[i];
    }
    this.updates++;
  }

  /** `params` with the averaged tensors in place of the trained ones (new tensors: dispose them with `disposeAveraged`). */
  averagedParams(params: HeadParams): HeadParams {
    const out = { ...params } as Record<string, tf.Tensor | undefined>;
    for (const [n, average] of this.averages) out[n] = tf.tensor(average, params[n]!.shape);
    return out as unknown as HeadParams;
  }

  /** Disposes the tensors `averagedParams` made, not the ones it shares with the trained params. */
  disposeAveraged(averaged: HeadParams): void {
    tf.dispose([...this.averages.keys()].map((n) => averaged[n]!));
  }

  /** The average as a checkpoint stores it: `average/<tensor>` and `average/updates`. */
  checkpointTensors(params: HeadParams): NamedTensor[] {
    return [
      ...[...this.averages].map(([n, average]) => ({ name: `${PREFIX}${n}`, tensor: tf.tensor(average, params[n]!.shape) })),
      { name: `${PREFIX}updates`, tensor: tf.scalar(this.updates) },
    ];
  }
}

const PREFIX = 'average/';
