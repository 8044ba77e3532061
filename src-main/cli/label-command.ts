import fs from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { formatDuration } from '../common/format.js';
import { writeFileAtomic } from '../core/base/atomic-write.js';
import { UsageError } from '../core/base/errors.js';
import { labelFolder, type LabelProgress } from '../core/label/label-folder.js';
import { resolveModel } from '../core/models/registry.js';
import { defaultMinScoreOf } from '../core/models/manifest.js';
import { resolveShard } from '../core/label/cluster-shard.js';
import { EXIT } from './exit-codes.js';
import { stopOnInterrupt } from './interrupt.js';

interface LabelOptions {
  out: string;
  model?: string;
  /** Absent: the model's own default. */
  minScore?: number;
  workers?: number;
  shard?: string;
  progress: 'auto' | 'bar' | 'lines' | 'none';
}

/** A bar on a terminal; on a pipe or in CI, a plain line every few seconds. */
function progressReporter(kind: LabelOptions['progress']) {
  const useBar = kind === 'bar' || (kind === 'auto' && Boolean(process.stderr.isTTY));
  if (kind === 'none') return { start() {}, update(_: LabelProgress) {}, stop() {} };
  if (useBar) {
    const bar = new cliProgress.SingleBar(
      {
        format: 'labelling [{bar}] {value}/{total} | {rate} img/s | ETA {etaText} | {failed} failed',
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    return {
      start(total: number) {
        bar.start(total, 0, { rate: '0.0', etaText: '?', failed: 0 });
      },
      update(p: LabelProgress) {
        bar.update(p.done + p.failed, { rate: p.imagesPerSecond.toFixed(1), etaText: formatDuration(p.etaSeconds), failed: p.failed });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let last = 0;
  return {
    start(total: number) {
      process.stderr.write(`labelling ${total} images\n`);
    },
    update(p: LabelProgress) {
      const now = Date.now();
      const finished = p.done + p.failed === p.total;
      if (!finished && now - last < 2000) return;
      last = now;
      process.stderr.write(`${p.done + p.failed}/${p.total} images, ${p.imagesPerSecond.toFixed(1)} img/s, ETA ${formatDuration(p.etaSeconds)}, ${p.failed} failed\n`);
    },
    stop() {},
  };
}

export async function runLabel(dir: string, opts: LabelOptions): Promise<number> {
  const shard = opts.shard ? resolveShard(opts.shard) : undefined;
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${dir}: not a folder`);
  const outDir = path.dirname(path.resolve(opts.out));
  if (!fs.existsSync(outDir)) throw new UsageError(`${opts.out}: its folder ${outDir} does not exist`);
  const model = resolveModel(opts.model);

  const interrupt = stopOnInterrupt('finishing the photos in progress, then writing what was labelled');

  const progress = progressReporter(opts.progress);
  let result;
  try {
    result = await labelFolder({
      dir,
      model,
      minScore: opts.minScore ?? defaultMinScoreOf(model.manifest),
      workers: opts.workers,
      shard,
      signal: interrupt.signal,
      onStart: ({ total, backend, workers }) => {
        process.stderr.write(`model ${model.manifest.id}, backend ${backend}, ${workers} worker${workers > 1 ? 's' : ''}\n`);
        progress.start(total);
      },
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.stop();
    interrupt.release();
  }

  writeFileAtomic(opts.out, JSON.stringify(result.doc));
  const seconds = result.elapsedMs / 1000;
  process.stderr.write(
    `${result.interrupted ? 'interrupted: ' : ''}labelled ${result.labelled} of ${result.total} images, ${result.doc.annotations.length} boxes, in ${seconds.toFixed(1)} s (${(result.labelled / Math.max(seconds, 1e-9)).toFixed(1)} img/s) -> ${opts.out}\n`,
  );
  if (result.problems.length > 0) {
    process.stderr.write(`${result.problems.length} could not be labelled:\n`);
    for (const p of result.problems) process.stderr.write(`  ${p.file}: ${p.reason}\n`);
  }
  if (result.interrupted) return EXIT.interrupted;
  return result.problems.length > 0 ? EXIT.someFilesFailed : EXIT.ok;
}
