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
  measuredAt: string;
}

/** fashion-ccp's recipe (width 96, 3 tail units) at 384x576 on 2 cores with the wasm backend (its 16 epochs took 175 s each for 689 photos). */
const FALLBACK: TrainingTimings = { secondsPerRead: 0.15, secondsPerPhotoEpoch: 0.26, area: 384 * 576, width: 96, tailUnits: 3, measuredAt: '' };

/** What was measured here for a head of this width and tail, else the fallback. */
export function readTimings(file: string, recipe: { width: number; tailUnits: number } = FALLBACK): TrainingTimings {
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as TrainingTimings;
    const sameRecipe = raw.width === recipe.width && raw.tailUnits === recipe.tailUnits;
    if (sameRecipe && raw.secondsPerRead > 0 && raw.secondsPerPhotoEpoch > 0 && raw.area > 0) return raw;
  } catch {
    // none measured here yet
  }
  return FALLBACK;
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
