import path from 'node:path';
import { buildCocoDocument, type CocoDocument, type LabelledImage } from '../formats/coco.js';
import { DetectorPool } from '../detect/detector-pool.js';
import type { ImageDetections, StageTimings } from '../detect/detector.js';
import { FileProblem } from '../base/errors.js';
import type { ResolvedModel } from '../models/registry.js';
import { inShard, type Shard } from './shard.js';
import { findImages, toPosix, type WalkProblem } from '../images/walk.js';

export interface LabelProgress {
  done: number;
  failed: number;
  total: number;
  imagesPerSecond: number;
  etaSeconds: number;
  lastFile?: string;
}

export interface LabelFolderOptions {
  dir: string;
  model: ResolvedModel;
  minScore: number;
  workers?: number;
  shard?: Shard;
  signal?: AbortSignal;
  onStart?: (info: { total: number; backend: string; workers: number }) => void;
  onProgress?: (p: LabelProgress) => void;
}

export interface LabelFolderResult {
  doc: CocoDocument;
  /** Files found but not labelled, and entries that could not be read, with reasons. */
  problems: WalkProblem[];
  total: number;
  labelled: number;
  interrupted: boolean;
  backend: string;
  workers: number;
  elapsedMs: number;
  /** Sums over the labelled photos, for the benchmark. */
  stageTotals: StageTimings;
}

/** Labels every image under a folder (or one shard of them) and builds one COCO document. */
export async function labelFolder(options: LabelFolderOptions): Promise<LabelFolderResult> {
  const root = path.resolve(options.dir);
  const walk = await findImages(root);
  const relative = (f: string) => toPosix(path.relative(root, f));
  const files = options.shard ? walk.files.filter((f) => inShard(relative(f), options.shard!)) : walk.files;
  const problems: WalkProblem[] = [...walk.problems];
  const labelled: LabelledImage[] = [];
  const stageTotals: StageTimings = { decodeMs: 0, preprocessMs: 0, inferenceMs: 0, postprocessMs: 0 };

  const pool = await DetectorPool.start(options.model, { workers: options.workers, minScore: options.minScore });
  options.onStart?.({ total: files.length, backend: pool.backend, workers: pool.workerCount });
  const started = performance.now();
  let done = 0;
  let failed = 0;
  let next = 0;
  // A window of photos in flight, not the whole list, so Ctrl-C stops within a photo or two per worker.
  const window = pool.workerCount * 3;

  const record = (result: ImageDetections) => {
    labelled.push({ fileName: relative(result.file), width: result.width, height: result.height, detections: result.detections });
    for (const key of Object.keys(stageTotals) as (keyof StageTimings)[]) stageTotals[key] += result.timings[key];
  };

  try {
    await new Promise<void>((resolve) => {
      let inFlight = 0;
      const report = (lastFile: string) => {
        const seconds = (performance.now() - started) / 1000;
        // Over at least half a second, so an instant first failure does not read as hundreds of images a second.
        const rate = (done + failed) / Math.max(seconds, 0.5);
        const left = files.length - done - failed;
        options.onProgress?.({ done, failed, total: files.length, imagesPerSecond: rate, etaSeconds: rate > 0 ? left / rate : Infinity, lastFile });
      };
      const launch = () => {
        while (inFlight < window && next < files.length && !options.signal?.aborted) {
          const file = files[next++];
          inFlight++;
          pool
            .detect(file)
            .then(
              (result) => {
                record(result);
                done++;
              },
              (err: Error) => {
                failed++;
                problems.push({ file, reason: err instanceof FileProblem ? err.reason : err.message });
              },
            )
            .finally(() => {
              inFlight--;
              report(file);
              launch();
            });
        }
        if (inFlight === 0) resolve();
      };
      options.signal?.addEventListener('abort', () => {
        if (inFlight === 0) resolve();
      });
      launch();
    });
  } finally {
    await pool.close();
  }

  const doc = buildCocoDocument(labelled, options.model.manifest.categories, {
    description: `Fashion Detect labels for ${path.basename(root)}`,
    version: '1.0',
    model: `${options.model.manifest.id}@${options.model.manifest.version}`,
    min_score: options.minScore,
    ...(options.shard ? { shard: `${options.shard.index}/${options.shard.count}` } : {}),
    date_created: new Date().toISOString(),
  });
  const relProblems = problems.map((p) => ({ file: path.isAbsolute(p.file) && p.file.startsWith(root) ? relative(p.file) || '.' : p.file, reason: p.reason }));
  return {
    doc,
    problems: relProblems,
    total: files.length,
    labelled: labelled.length,
    interrupted: Boolean(options.signal?.aborted) && done + failed < files.length,
    backend: pool.backend,
    workers: pool.workerCount,
    elapsedMs: performance.now() - started,
    stageTotals,
  };
}
