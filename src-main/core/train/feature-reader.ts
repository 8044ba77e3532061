import { throughput } from '../../common/progress.js';
import type { TrainImage } from './dataset.js';
import { CacheWriteFailure, type FeatureSample, type PhotoVariant } from './features.js';
import { ThreadFailure } from './threads.js';

/** One photo shown to the base one way (as it is, mirrored, or smaller). */
export interface PhotoJob {
  image: TrainImage;
  variant: PhotoVariant;
}

/** What the frozen base gave for one photo job. */
export interface PhotoSample {
  image: TrainImage;
  /** Shown smaller than the Detector sees it (scale augmentation). */
  zoomed: boolean;
  sample: FeatureSample;
}

/** Reads one photo job through the base: on this thread, or on a helper thread. */
export type FeatureReader = (file: string, variant: PhotoVariant) => Promise<FeatureSample>;

const isPlain = (v: PhotoVariant) => !v.flip && v.zoom === 1;

/**
 * The base's view of every photo, of every training photo mirrored and (scale augmentation) smaller:
 * augmentation that a frozen base is given exactly, by reading the photo so.
 */
export function photoJobs(trainImages: readonly TrainImage[], valImages: readonly TrainImage[], zoomOut: number): PhotoJob[] {
  const plain = { flip: false, zoom: 1 };
  return [
    ...trainImages.flatMap((image, i) => [
      { image, variant: plain },
      { image, variant: { flip: true, zoom: 1 } },
      ...(zoomOut < 1 ? [{ image, variant: { flip: i % 2 === 1, zoom: zoomOut } }] : []),
    ]),
    ...valImages.map((image) => ({ image, variant: plain })),
  ];
}

export interface ReadHooks {
  signal?: AbortSignal;
  log: (line: string) => void;
  /** Jobs finished of all, and the time left; about once a second and at the end. */
  onProgress: (finished: number, total: number, etaSeconds: number | undefined) => void;
}

/**
 * Reads the jobs with every reader at once, each taking the next job until none is left; results keep
 * the order of `jobs`. A photo that cannot be read is left out (and logged once); a failed helper
 * thread or cache stops the reading. Stops early, with what was read, when `signal` aborts.
 */
export async function readPhotos(jobs: readonly PhotoJob[], readers: readonly FeatureReader[], hooks: ReadHooks): Promise<PhotoSample[]> {
  const read: (FeatureSample | undefined)[] = new Array(jobs.length);
  const start = performance.now();
  let lastReport = 0;
  let nextJob = 0;
  let finished = 0;
  const readWith = async (reader: FeatureReader) => {
    while (nextJob < jobs.length && !hooks.signal?.aborted) {
      const i = nextJob++;
      const job = jobs[i];
      try {
        read[i] = await reader(job.image.file, job.variant);
      } catch (err) {
        if (err instanceof ThreadFailure || err instanceof CacheWriteFailure) throw err;
        if (isPlain(job.variant)) hooks.log(`skipping ${job.image.fileName}: ${(err as Error).message}`);
      }
      finished++;
      const now = performance.now();
      if (now - lastReport > 1000 || finished === jobs.length) {
        lastReport = now;
        hooks.onProgress(finished, jobs.length, throughput(finished, jobs.length, (now - start) / 1000).etaSeconds ?? undefined);
      }
    }
  };
  await Promise.all(readers.map(readWith));
  return jobs.flatMap((job, i) => (read[i] ? [{ image: job.image, zoomed: job.variant.zoom !== 1, sample: read[i]! }] : []));
}
