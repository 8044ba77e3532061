import { formatDuration } from '../../common/format.js';
import { throughput } from '../../common/progress.js';
import { RunError } from '../base/errors.js';
import type { BaseOutputShape } from './step.js';
import type { CheckpointState } from './checkpoint.js';
import { learningRateAt, type EpochSampler } from './sampling.js';
import type { HeadTrainer, StepSample } from './trainer.js';
import type { TrainProgress, ValidationResult } from './types.js';
import type { Validator } from './validate.js';

/** Seconds an epoch's validation is reckoned to take, for the time left. */
const VALIDATION_SECONDS = 2;

export interface EpochLoop {
  /** The model folder, where the checkpoint is written after each epoch. */
  out: string;
  epochs: number;
  /** Where the training is; updated as it goes (and saved with the checkpoint). */
  state: CheckpointState;
  trainer: HeadTrainer;
  sampler: EpochSampler;
  /** The training samples the sampler's indices point into. */
  samples: readonly StepSample[];
  inputShapes: readonly BaseOutputShape[];
  validator?: Validator;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  log: (line: string) => void;
}

export interface LoopEnd {
  /** Stopped by the signal before the last epoch ended. */
  stopped: boolean;
  /** The validation after the last epoch run in this session, if one ended. */
  lastValidation?: ValidationResult;
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined ? 'n/a' : v.toFixed(3);
}

/**
 * Runs the epochs left: each a pass of optimiser steps in the sampler's order, then a validation and a
 * checkpoint. Between steps it yields to the event loop and stops, with the state as it is, when the
 * signal aborts.
 */
export async function runEpochs(loop: EpochLoop): Promise<LoopEnd> {
  const { state, epochs, sampler } = loop;
  const session = { steps: 0, seconds: 0 };
  let lastValidation: ValidationResult | undefined;
  while (state.epoch < epochs) {
    const epochStart = performance.now();
    if (await runSteps(loop, session)) return { stopped: true, lastValidation };
    const { validator, trainer } = loop;
    const val = validator && trainer.withModelParams((params) => validator.run(params));
    // The trained weights themselves too, so that the log and the card show what the average adds.
    const unaveraged = validator && trainer.averaging ? validator.run(trainer.params) : undefined;
    lastValidation = val;
    const loss = state.stepLossSum / sampler.steps;
    state.history.push({
      epoch: state.epoch + 1,
      loss,
      valAp50: val?.ap50 ?? null,
      valAp: val?.ap ?? null,
      ...(unaveraged ? { unaveraged: { valAp50: unaveraged.ap50, valAp: unaveraged.ap } } : {}),
      seconds: (performance.now() - epochStart) / 1000,
    });
    loop.log(
      `epoch ${state.epoch + 1}/${epochs}: loss ${loss.toFixed(4)}` +
        (val ? `, validation AP50 ${fmt(val.ap50)}, AP ${fmt(val.ap)}` : '') +
        (unaveraged ? ` (without the weight average: ${fmt(unaveraged.ap50)}, ${fmt(unaveraged.ap)})` : '') +
        `, ${formatDuration(state.trainSeconds)} so far`,
    );
    state.epoch++;
    state.step = 0;
    state.stepLossSum = 0;
    await trainer.saveCheckpoint(loop.out, state);
  }
  return { stopped: false, lastValidation };
}

/** The steps left in the current epoch; true when stopped by the signal. */
async function runSteps(loop: EpochLoop, session: { steps: number; seconds: number }): Promise<boolean> {
  const { state, epochs, sampler } = loop;
  const { batchSize, learningRate } = state.settings;
  const steps = sampler.steps;
  const totalSteps = steps * epochs;
  const order = sampler.order(state.epoch);
  const lastVal = state.history.at(-1)?.valAp50 ?? null;
  for (; state.step < steps; state.step++) {
    // The steps are synchronous: yield once a step so that Ctrl-C (a signal event) is seen.
    await new Promise((resolve) => setImmediate(resolve));
    if (loop.signal?.aborted) return true;
    const t0 = performance.now();
    const batch = order.slice(state.step * batchSize, (state.step + 1) * batchSize).map((i) => loop.samples[i]);
    const globalStep = state.epoch * steps + state.step;
    loop.trainer.setLearningRate(learningRateAt(globalStep, totalSteps, learningRate));
    const loss = await loop.trainer.step(batch, loop.inputShapes);
    if (!Number.isFinite(loss)) throw new RunError((n) => `the loss became ${loss} at epoch ${state.epoch + 1}, step ${state.step + 1}: try a lower ${n('learningRate')}`);
    state.stepLossSum += loss;
    const seconds = (performance.now() - t0) / 1000;
    session.steps++;
    session.seconds += seconds;
    state.trainSeconds += seconds;
    const left = totalSteps - globalStep - 1;
    const eta = throughput(session.steps, session.steps + left, session.seconds).etaSeconds ?? 0;
    loop.onProgress?.({
      phase: 'train',
      epoch: state.epoch + 1,
      epochs,
      step: state.step + 1,
      steps,
      loss: state.stepLossSum / (state.step + 1),
      valAp50: lastVal,
      etaSeconds: eta + (epochs - state.epoch) * VALIDATION_SECONDS,
    });
  }
  return false;
}
