import fs from 'node:fs';
import { writeFileAtomic } from '../base/atomic-write.js';

// How long a training will take on this machine: seconds to read a photo through the base and seconds
// a training photo costs per epoch, as measured by the last training here (timings.json), else as
// measured once on a two-core machine. Both scale with the input's area.

/** Measured costs at an input of `area` pixels. */
export interface TrainingTimings {
  /** Seconds to read one photo once through the base (each training photo is read three times: plain, mirrored, smaller). */
  secondsPerRead: number;
  /** Seconds one training photo costs per epoch (steps and validation together). */
  secondsPerPhotoEpoch: number;
  /** The input's width x height these were measured at. */
  area: number;
  /** The head's width and tail units they were measured with. */
  width: number;
  tailUnits: number;
  /** The reads ran the pose model too (a head that takes the wearer's body); absent in older files: false. */
  pose?: boolean;
  measuredAt: string;
}

/** What a training's time depends on besides the photos: the head's recipe, and whether each read runs the pose model. */
export interface TrainingRecipe {
  width: number;
  tailUnits: number;
  pose: boolean;
}

/**
 * fashion-ccp's recipe (width 96, 3 tail units) at 384x576 on 2 cores with the wasm backend: its 16
 * epochs took 175 s each for 689 photos (0.25 s a photo), and a run of 24 photos in the app on a busy
 * machine read 0.45 s a photo and trained 0.8 s a photo in its one epoch.
 */
const FALLBACK: TrainingTimings = { secondsPerRead: 0.35, secondsPerPhotoEpoch: 0.4, area: 384 * 576, width: 96, tailUnits: 3, pose: false, measuredAt: '' };

/**
 * A read that also runs MoveNet on the picture (a head that takes the wearer's body) takes this many
 * times as long: tests/bench/train-read-cost.mjs measured 1.210 and 1.213 on a quiet machine (155-158 ms
 * a read without, 188-191 ms with; one thread), 1.219 to 1.239 with a training running beside it.
 */
export const POSE_READ_RATIO = 1.22;

/** What was measured here for a head of this width and tail, else the fallback; its reads scaled to run the pose model or not, as `recipe` says. */
export function readTimings(file: string, recipe: TrainingRecipe): TrainingTimings {
  let timings = FALLBACK;
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as TrainingTimings;
    const sameRecipe = raw.width === recipe.width && raw.tailUnits === recipe.tailUnits;
    if (sameRecipe && raw.secondsPerRead > 0 && raw.secondsPerPhotoEpoch > 0 && raw.area > 0) timings = raw;
  } catch {
    // none measured here yet
  }
  return timingsWithPose(timings, recipe.pose);
}

/** `timings` with their reads scaled to run the pose model or not (one file read gives both of the window's figures). */
export function timingsWithPose(timings: TrainingTimings, pose: boolean): TrainingTimings {
  const measuredWithPose = timings.pose ?? false;
  if (measuredWithPose === pose) return timings;
  const secondsPerRead = pose ? timings.secondsPerRead * POSE_READ_RATIO : timings.secondsPerRead / POSE_READ_RATIO;
  return { ...timings, secondsPerRead, pose };
}

export function writeTimings(file: string, timings: TrainingTimings): void {
  writeFileAtomic(file, JSON.stringify(timings, null, 2) + '\n');
}

/**
 * The time a training of `photos` photos takes: setup (reading every photo through the base; a share
 * `valSplit` is held back and read once) and each epoch.
 */
export function estimateTraining(photos: number, input: { width: number; height: number }, timings: TrainingTimings, valSplit = 0.15): { setupSeconds: number; secondsPerEpoch: number } {
  const scale = (input.width * input.height) / timings.area;
  const val = Math.round(photos * valSplit);
  const train = photos - val;
  return {
    setupSeconds: Math.round((3 * train + val) * timings.secondsPerRead * scale),
    secondsPerEpoch: Math.round(train * timings.secondsPerPhotoEpoch * scale),
  };
}
