import { formatDuration } from '../common/format.js';
import { OptionError, RunError, UsageError } from '../core/base/errors.js';
import { train, type TrainOptions, type TrainProgress } from '../core/train/train.js';
import { EXIT } from './exit-codes.js';
import { stopOnInterrupt } from './interrupt.js';

export interface TrainCommandOptions {
  coco: string;
  images: string;
  out: string;
  base: string;
  init?: string;
  epochs: number;
  valSplit: number;
  batchSize: number;
  learningRate: number;
  width?: number;
  context: boolean;
  pose?: boolean;
  /** `true` when given without a number. */
  tuneTail?: boolean | number;
  tailLearningRate: number;
  repeatThreshold: number;
  zoomOut: number;
  threads?: number;
  input?: string;
  seed: number;
  id?: string;
  modelVersion?: string;
  name?: string;
  license?: string;
  cite?: string;
  cache: boolean;
  presenceLoss?: number;
  ema?: number;
  tags?: string;
  tagImages?: string;
  pseudoLabels?: string;
  pseudoModel?: string;
  progress: 'auto' | 'lines' | 'none';
}

export function parseInputSize(value: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(value.trim());
  const width = m ? Number(m[1]) : NaN;
  const height = m ? Number(m[2]) : NaN;
  if (!m || width % 32 !== 0 || height % 32 !== 0 || width < 64 || height < 64 || width > 1024 || height > 1024) {
    throw new UsageError(`--input ${value}: expected WIDTHxHEIGHT, both multiples of 32 from 64 to 1024, e.g. 352x512`);
  }
  return { width, height };
}

/** The flag of each option of `train`, for its messages: the core names options by their keys. */
const FLAGS: Partial<Record<keyof TrainOptions, string>> = {
  annotations: '--coco',
  images: '--images',
  out: '--out',
  base: '--base',
  init: '--init',
  epochs: '--epochs',
  valSplit: '--val-split',
  batchSize: '--batch-size',
  learningRate: '--learning-rate',
  width: '--width',
  context: '--no-context',
  pose: '--pose',
  tailUnits: '--tune-tail',
  tailLearningRate: '--tail-learning-rate',
  repeatThreshold: '--repeat-threshold',
  threads: '--threads',
  zoomOut: '--zoom-out',
  input: '--input',
  seed: '--seed',
  id: '--id',
  modelVersion: '--model-version',
  name: '--name',
  license: '--license',
  citation: '--cite',
  cacheDir: '--no-cache',
  presenceLoss: '--presence-loss',
  emaDecay: '--ema',
  tags: '--tags',
  tagImages: '--tag-images',
  pseudoLabels: '--pseudo-labels',
  pseudoModel: '--pseudo-model',
};

const flagOf = (option: string) => FLAGS[option as keyof TrainOptions] ?? option;

/** Progress on stderr: a line that rewrites itself on a terminal, a line every few seconds on a pipe. */
function progressPrinter(kind: TrainCommandOptions['progress']) {
  const tty = kind === 'auto' && Boolean(process.stderr.isTTY);
  let last = 0;
  let lastMark = '';
  let open = false;
  const line = (p: TrainProgress): string => {
    const eta = p.etaSeconds === undefined ? '?' : formatDuration(p.etaSeconds);
    if (p.phase === 'pseudo-boxes') return `finding the model's boxes on the tagged photos: ${p.step}/${p.steps}, ETA ${eta}`;
    if (p.phase === 'features') return `reading photos through the base: ${p.step}/${p.steps}, ETA ${eta}`;
    const val = p.valAp50 === undefined || p.valAp50 === null ? 'n/a' : p.valAp50.toFixed(3);
    return `epoch ${p.epoch}/${p.epochs}, step ${p.step}/${p.steps}, loss ${p.loss?.toFixed(4)}, val AP50 ${val}, ETA ${eta}`;
  };
  return {
    update(p: TrainProgress) {
      if (kind === 'none') return;
      const now = Date.now();
      const last_ = p.step === p.steps;
      if (tty) {
        if (now - last < 250 && !last_) return;
        last = now;
        process.stderr.write(`\r\x1b[2K${line(p)}`);
        open = true;
      } else {
        // A line every five seconds, and at once when a phase or an epoch begins or ends.
        const mark = `${p.phase} ${p.epoch}`;
        if (now - last < 5000 && !last_ && mark === lastMark) return;
        last = now;
        lastMark = mark;
        process.stderr.write(`${line(p)}\n`);
      }
    },
    /** A log line, on a line of its own. */
    log(text: string) {
      if (open) process.stderr.write('\r\x1b[2K');
      open = false;
      process.stderr.write(`${text}\n`);
    },
  };
}

export async function runTrain(opts: TrainCommandOptions): Promise<number> {
  const input = opts.input ? parseInputSize(opts.input) : undefined;
  const interrupt = stopOnInterrupt('finishing this step, then saving a checkpoint');
  const printer = progressPrinter(opts.progress);
  try {
    const result = await train({
      annotations: opts.coco,
      images: opts.images,
      out: opts.out,
      base: opts.base,
      init: opts.init,
      epochs: opts.epochs,
      valSplit: opts.valSplit,
      batchSize: opts.batchSize,
      learningRate: opts.learningRate,
      width: opts.width,
      context: opts.context,
      pose: opts.pose,
      tailUnits: opts.tuneTail === true ? 1 : (opts.tuneTail || (opts.init ? undefined : 0)),
      tailLearningRate: opts.tailLearningRate,
      repeatThreshold: opts.repeatThreshold,
      zoomOut: opts.zoomOut,
      threads: opts.threads,
      input,
      seed: opts.seed,
      id: opts.id,
      modelVersion: opts.modelVersion,
      name: opts.name,
      license: opts.license,
      citation: opts.cite,
      cacheDir: opts.cache ? undefined : false,
      presenceLoss: opts.presenceLoss,
      emaDecay: opts.ema,
      tags: opts.tags,
      tagImages: opts.tagImages,
      pseudoLabels: opts.pseudoLabels,
      pseudoModel: opts.pseudoModel,
      signal: interrupt.signal,
      onProgress: (p) => printer.update(p),
      log: (text) => printer.log(text),
    });
    if (result.status === 'stopped') {
      printer.log('run the same command to resume');
      return EXIT.interrupted;
    }
    if (result.validation) {
      printer.log('validation AP50 by category:');
      for (const c of result.validation.perCategory) {
        printer.log(`  ${c.name.padEnd(14)} ${c.ap50 === null ? 'n/a (no boxes)' : c.ap50.toFixed(3)}`);
      }
    }
    return EXIT.ok;
  } catch (err) {
    // Name the options as this command does: by their flags.
    if (err instanceof OptionError) throw new UsageError(err.describe(flagOf));
    if (err instanceof RunError) throw new Error(err.describe(flagOf));
    throw err;
  } finally {
    interrupt.release();
  }
}
