import path from 'node:path';
import { buildCocoDocument, type CocoDocument } from '../formats/coco.js';
import type { LabelledImage } from '../formats/labelled-images.js';
import { DetectorPool } from '../detect/detector-pool.js';
import type { ImageDetections, StageTimings } from '../detect/detector.js';
import { modelTag } from '../models/manifest.js';
import type { ResolvedModel } from '../models/registry.js';
import { LabelQueue, type LabelBatch, type LabelPool } from './label-queue.js';
import { inShard, type Shard } from './shard.js';
import { findImages, toPosix, type WalkProblem } from '../images/walk.js';

export interface LabelProgress {
  done: number;
  failed: number;
  /** The photos to label (fewer once an interrupt took the rest out of the queue). */
  total: number;
  imagesPerSecond: number;
  /** Infinity while unknown. */
  etaSeconds: number;
  /** The photo that just finished. */
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
  let lastFile: string | undefined;
  let batch: LabelBatch;
  try {
    batch = await labelFiles(pool, files, {
      signal: options.signal,
      onResult: (file, result) => {
        lastFile = file;
        labelled.push({ name: relative(result.file), width: result.width, height: result.height, boxes: result.detections });
        for (const key of Object.keys(stageTotals) as (keyof StageTimings)[]) stageTotals[key] += result.timings[key] ?? 0;
      },
      onFailure: (file, reason) => {
        lastFile = file;
        problems.push({ file, reason });
      },
      onProgress: (p) => options.onProgress?.({ done: p.done, failed: p.failed, total: p.total, imagesPerSecond: p.imagesPerSecond, etaSeconds: p.etaSeconds ?? Infinity, lastFile }),
    });
  } finally {
    await pool.close();
  }

  const doc = buildCocoDocument(labelled, options.model.manifest.categories, {
    description: `Fashion Detect labels for ${path.basename(root)}`,
    version: '1.0',
    model: modelTag(options.model.manifest),
    min_score: options.minScore,
    ...(options.shard ? { shard: `${options.shard.index}/${options.shard.count}` } : {}),
    date_created: new Date().toISOString(),
  });
  const relProblems = problems.map((p) => ({ file: path.isAbsolute(p.file) && p.file.startsWith(root) ? relative(p.file) || '.' : p.file, reason: p.reason }));
  const { done, failed } = batch;
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

/**
 * Labels `items` (each read from `fileOf(item)`) on a started pool through the one labelling queue, a
 * few photos per worker at a time (so a stop takes effect within a photo or two per worker); resolves
 * with the batch when all are done or the signal stopped the rest. The caller owns the pool.
 */
export async function labelItems<T>(
  pool: LabelPool,
  items: readonly T[],
  fileOf: (item: T) => string,
  on: { signal?: AbortSignal; onResult(item: T, result: ImageDetections): void; onFailure(item: T, reason: string): void; onProgress?(batch: LabelBatch): void },
): Promise<LabelBatch> {
  const queue = new LabelQueue<T>({
    pool: async () => pool,
    fileOf,
    onResult: on.onResult,
    onFailure: on.onFailure,
    onProgress: (batch, milestone) => {
      if (!milestone) on.onProgress?.(batch);
    },
  });
  const stop = () => queue.cancel();
  on.signal?.addEventListener('abort', stop);
  try {
    if (!on.signal?.aborted) queue.enqueue(items, false);
    await queue.idle();
  } finally {
    on.signal?.removeEventListener('abort', stop);
  }
  return queue.batch;
}

/** labelItems for a list of files. */
export function labelFiles(pool: LabelPool, files: readonly string[], on: Parameters<typeof labelItems<string>>[3]): Promise<LabelBatch> {
  return labelItems(pool, files, (file) => file, on);
}
