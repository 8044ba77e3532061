import { tf } from '../base/backend.js';
import { headTensorNames, type HeadParams, type HeadShape, type HeadTensorName } from '../models/fpn-head.js';
import { TAIL_TENSORS } from '../models/tail.js';
import { saveCheckpoint, type CheckpointState, type NamedTensor } from './checkpoint.js';
import type { FeatureSample } from './features.js';
import { batchBaseOutputs, batchBodies, partGradients, type BaseOutputShape, type StepGeometry, type StepPart } from './step.js';
import { initPresence, PRESENCE_TENSORS, type PresenceTensorName, type TrainedTensorName } from './presence.js';
import type { Targets } from './targets.js';
import type { TrainThreads } from './threads.js';
import { WeightAverage } from './weight-average.js';

/** A sample as an optimiser step takes it: what the base gave for the photo, and what the head should give. */
export interface StepSample {
  sample: FeatureSample;
  targets: Targets;
}

/** The optimiser's state as a checkpoint holds it (checkpoint.ts), by name: `head/<tensor>`, `adam/...`, `adamTail/...`, `average/...`. */
type Saved = ReadonlyMap<string, tf.Tensor>;

/**
 * The head (and tuned tail) being trained: its tensors as variables, and two Adam optimisers, the
 * tail's at a share of the head's learning rate (it starts trained, so it moves slower). A step's
 * batch is shared among this thread and the helper threads; their gradients are added up. With a
 * weight average (weight-average.ts), the model is the average: `modelParams` gives it.
 */
export class HeadTrainer {
  private readonly variables = new Map<TrainedTensorName, tf.Variable>();
  private readonly trainable: TrainedTensorName[];
  private readonly tailNames = new Set<TrainedTensorName>(TAIL_TENSORS);
  private readonly optimizers: { head: tf.AdamOptimizer; tail: tf.AdamOptimizer };
  private readonly featureMean: Float32Array;
  private readonly featureStd: Float32Array;
  private average?: WeightAverage;

  private constructor(
    private readonly shape: HeadShape,
    /** The head's tensors; the trainable ones become variables here. */
    readonly params: HeadParams,
    private readonly learningRates: { head: number; tailShare: number },
    private readonly geometry: StepGeometry,
    private readonly helpers: TrainThreads | undefined,
    /** The presence loss's layer (presence.ts), when it is on: trained, never part of the model. */
    private readonly presence: Partial<Record<PresenceTensorName, tf.Tensor>> = {},
  ) {
    this.trainable = trainableTensors(shape, geometry.presenceWeight > 0);
    for (const n of this.trainable) {
      const holder = (n === 'presence' || n === 'presenceBias' ? presence : params) as Record<string, tf.Tensor>;
      const v = tf.variable(holder[n], true, `head-${n}-${Date.now()}`);
      holder[n].dispose();
      holder[n] = v;
      this.variables.set(n, v);
    }
    this.optimizers = { head: tf.train.adam(learningRates.head), tail: tf.train.adam(learningRates.head * learningRates.tailShare) };
    this.featureMean = params.featureMean.dataSync() as Float32Array;
    this.featureStd = params.featureStd.dataSync() as Float32Array;
  }

  /**
   * A trainer from fresh weights (`params`), or from a checkpoint's (`saved`: the head's tensors, both
   * optimisers' state and the weight average). `averageDecay`: keep a weight average with this decay.
   */
  static async create(
    shape: HeadShape,
    start: { params: HeadParams; seed: number } | { saved: Saved },
    learningRates: { head: number; tailShare: number },
    geometry: StepGeometry,
    helpers: TrainThreads | undefined,
    averageDecay?: number,
  ): Promise<HeadTrainer> {
    const withPresence = geometry.presenceWeight > 0;
    let trainer: HeadTrainer;
    if ('params' in start) {
      const presence = withPresence ? initPresence(shape.inChannels, shape.numClasses, start.seed) : {};
      trainer = new HeadTrainer(shape, start.params, learningRates, geometry, helpers, presence);
    } else {
      const params = Object.fromEntries(headTensorNames(shape).map((n) => [n, start.saved.get(`head/${n}`)!])) as HeadParams;
      const presence = withPresence ? Object.fromEntries(PRESENCE_TENSORS.map((n) => [n, start.saved.get(`presence/${n}`)!])) : {};
      trainer = new HeadTrainer(shape, params, learningRates, geometry, helpers, presence);
      await trainer.restoreOptimizers(start.saved);
    }
    if (averageDecay !== undefined) {
      const names = trainableTensors(shape, false) as HeadTensorName[];
      const restored = 'saved' in start ? WeightAverage.restore(averageDecay, start.saved, names) : undefined;
      trainer.average = restored ?? WeightAverage.start(averageDecay, trainer.params, names);
    }
    return trainer;
  }

  /** Whether the model is a weight average of the trained weights (`params`). */
  get averaging(): boolean {
    return this.average !== undefined;
  }

  /** Runs `use` on the model's tensors: the weight average where one is kept, else the trained weights. */
  withModelParams<T>(use: (params: HeadParams) => T): T {
    if (!this.average) return use(this.params);
    const averaged = this.average.averagedParams(this.params);
    try {
      return use(averaged);
    } finally {
      this.average.disposeAveraged(averaged);
    }
  }

  private async restoreOptimizers(saved: Saved): Promise<void> {
    for (const [key, optimizer] of Object.entries(this.optimizers)) {
      const prefix = key === 'head' ? 'adam/' : 'adamTail/';
      const adam = [...saved.keys()].filter((name) => name.startsWith(prefix)).map((name) => ({ name: name.slice(prefix.length), tensor: saved.get(name)! }));
      // Adam's slots follow the variable order of the first update; they are restored in that order.
      if (adam.length > 1) await optimizer.setWeights(adam);
    }
  }

  /** The learning rate of the next steps (the schedule is the caller's); the tail's follows at its share. */
  setLearningRate(rate: number): void {
    (this.optimizers.head as unknown as { learningRate: number }).learningRate = rate;
    (this.optimizers.tail as unknown as { learningRate: number }).learningRate = rate * this.learningRates.tailShare;
  }

  /** One optimiser step on `batch`, shared among the threads; returns the loss. */
  async step(batch: readonly StepSample[], inputShapes: readonly BaseOutputShape[]): Promise<number> {
    const norm = Math.max(1, batch.reduce((n, s) => n + s.targets.cells.length, 0));
    const threads = Math.min(1 + (this.helpers?.count ?? 0), batch.length);
    const parts: StepPart[] = Array.from({ length: threads }, (_, t) => {
      const mine = batch.filter((_, k) => k % threads === t);
      const samples = mine.map((s) => s.sample);
      return { inputs: batchBaseOutputs(samples, inputShapes), bodies: batchBodies(samples), featureMean: this.featureMean, featureStd: this.featureStd, targets: mine.map((s) => s.targets), norm, photos: batch.length };
    });
    const weights = parts.length > 1 ? this.trainable.map((n) => [n, this.variables.get(n)!.dataSync() as Float32Array] as [TrainedTensorName, Float32Array]) : [];
    // The weights are copied into each message (only the feature data is transferred).
    const others = parts.slice(1).map((part, t) => this.helpers!.step(t, weights, part));
    const results = [partGradients(this.variables, parts[0], this.geometry), ...(await Promise.all(others))];
    const grads = { head: [] as NamedTensor[], tail: [] as NamedTensor[] };
    for (const n of this.trainable) {
      const sum = results[0].grads.get(n)!;
      for (const r of results.slice(1)) {
        const g = r.grads.get(n)!;
        for (let i = 0; i < sum.length; i++) sum[i] += g[i];
      }
      grads[this.tailNames.has(n) ? 'tail' : 'head'].push({ name: this.variables.get(n)!.name, tensor: tf.tensor(sum, this.variables.get(n)!.shape) });
    }
    this.optimizers.head.applyGradients(grads.head);
    if (grads.tail.length > 0) this.optimizers.tail.applyGradients(grads.tail);
    tf.dispose([...grads.head, ...grads.tail].map((g) => g.tensor));
    this.average?.update(this.params);
    return results.reduce((n, r) => n + r.loss, 0);
  }

  /** Writes the checkpoint: `state`, the head's tensors, the optimisers' state and the weight average. */
  async saveCheckpoint(out: string, state: CheckpointState): Promise<void> {
    const average = this.average?.checkpointTensors(this.params) ?? [];
    try {
      saveCheckpoint(out, state, [...(await this.checkpointTensors()), ...average]);
    } finally {
      tf.dispose(average.map((a) => a.tensor));
    }
  }

  /** The head's tensors and the optimisers' state, named as a checkpoint stores them. */
  private async checkpointTensors(): Promise<NamedTensor[]> {
    return [
      ...headTensorNames(this.shape).map((n) => ({ name: `head/${n}`, tensor: this.params[n]! })),
      ...PRESENCE_TENSORS.filter((n) => this.presence[n]).map((n) => ({ name: `presence/${n}`, tensor: this.presence[n]! })),
      ...(await this.optimizers.head.getWeights()).map((w) => ({ name: `adam/${w.name}`, tensor: w.tensor })),
      ...(this.shape.tailUnits > 0 ? await this.optimizers.tail.getWeights() : []).map((w) => ({ name: `adamTail/${w.name}`, tensor: w.tensor })),
    ];
  }

  dispose(): void {
    tf.dispose([...Object.values(this.params), ...Object.values(this.presence)]);
    this.optimizers.head.dispose();
    this.optimizers.tail.dispose();
  }
}

/** The tensors training changes: all but the standardisation, which is measured once; and the presence loss's layer when it is on. */
export function trainableTensors(shape: HeadShape, presence: boolean): TrainedTensorName[] {
  return [...headTensorNames(shape).filter((n) => n !== 'featureMean' && n !== 'featureStd'), ...(presence ? PRESENCE_TENSORS : [])];
}
