#!/usr/bin/env node
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { runDetect } from './detect-command.js';
import { runEval } from './eval-command.js';
import { runInfo } from './info-command.js';
import { runLabel } from './label-command.js';
import { runMerge } from './merge-command.js';
import { runTrain } from './train-command.js';
import { addDatasetCommands } from './dataset-commands.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from '../core/base/errors.js';
import { DEFAULT_MIN_SCORE } from '../core/models/manifest.js';
import { AP_MIN_SCORE } from '../core/eval/coco-eval.js';
import { FEATURES_SIZE_NOTE } from '../core/train/features.js';

const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as { version: string };

function minScore(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

const program = new Command();
program
  .name('fashion-detect')
  .description('Finds fashion items (tops, pants, dresses, footwear, bags, ...) in photos.')
  .version(pkg.version)
  .showHelpAfterError()
  .exitOverride();

const modelOption = () => new Option('-m, --model <id-or-folder>', 'model id under models/, or the path of a model folder (default: the built-in model)');
const minScoreOption = () =>
  new Option('-s, --min-score <score>', `drop detections scoring below this, 0 to 1 (default: the model's own, ${DEFAULT_MIN_SCORE} where it names none)`).argParser(minScore);

program
  .command('detect')
  .description('detect items in image files and print one JSON object per image')
  .argument('<files...>', 'image files (JPEG, PNG, WebP, GIF, TIFF, AVIF, HEIC)')
  .addOption(modelOption())
  .addOption(minScoreOption())
  .action(async (files: string[], opts) => {
    process.exitCode = await runDetect(files, opts);
  });

program
  .command('label')
  .description('label every image under a folder and write one COCO detection file')
  .argument('<dir>', 'folder of images, searched recursively')
  .requiredOption('-o, --out <file.json>', 'the COCO JSON file to write')
  .addOption(modelOption())
  .addOption(minScoreOption())
  .addOption(new Option('-w, --workers <n>', 'worker threads, each with its own model (default: one per core)').argParser(positiveInt))
  .addOption(new Option('--shard <K/N|auto>', 'label only the K-th of N stable shares of the files, to spread a folder over machines; auto (or auto/N): K and N from a Slurm job array or a Kubernetes Indexed Job'))
  .addOption(new Option('--progress <kind>', 'progress display').choices(['auto', 'bar', 'lines', 'none']).default('auto'))
  .action(async (dir: string, opts) => {
    process.exitCode = await runLabel(dir, opts);
  });

program
  .command('merge')
  .description('join the COCO files of several shards into one')
  .argument('<files...>', 'COCO files written by label --shard')
  .requiredOption('-o, --out <file.json>', 'the merged COCO file to write')
  .action(async (files: string[], opts) => {
    process.exitCode = await runMerge(files, opts);
  });

program
  .command('eval')
  .description('measure detections against ground truth: COCO AP at IoU 0.50:0.95, AP50, AP75, per category')
  .requiredOption('--gt <file.json>', 'ground truth, a COCO detection file')
  .option('--pred <file.json>', 'predictions: a COCO file with scores (as label writes) or a COCO results array')
  .option('--images <dir>', 'instead of --pred: run the model on this folder and evaluate in one go')
  .addOption(modelOption())
  .addOption(new Option('-s, --min-score <score>', 'with --images: drop detections scoring below this, 0 to 1 (low, so AP sees the whole curve)').argParser(minScore).default(AP_MIN_SCORE))
  .addOption(new Option('-w, --workers <n>', 'with --images: worker threads (default: one per core)').argParser(positiveInt))
  .option('--plots <dir>', 'write a precision-recall curve PNG per category into this folder')
  .addOption(new Option('--review-score <score>', "the score a reviewer sees boxes from, for the edits per photo (default: the model's own default minimum score)").argParser(minScore))
  .option('--json', 'print the result as JSON')
  .action(async (opts) => {
    process.exitCode = await runEval(opts);
  });

program
  .command('info')
  .description('show the inference backend, the installed models and versions')
  .option('--json', 'print as JSON')
  .action(async (opts) => {
    process.exitCode = await runInfo(opts, pkg.version);
  });

function numberIn(lo: number, hi: number, what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < lo || n >= hi) throw new InvalidArgumentError(`must be ${what}`);
    return n;
  };
}

program
  .command('train')
  .description('train a detector for the categories of a COCO file (any COCO detection set, the app\'s exports included)')
  .requiredOption('--coco <ann.json>', 'COCO detection file with the boxes to learn')
  .requiredOption('--images <dir>', 'folder the file_name entries of the COCO file are relative to')
  .requiredOption('-o, --out <dir>', 'model folder to write, e.g. models/my-model; an unfinished one there is resumed')
  .option('--base <id>', 'installed model whose frozen feature pyramid is trained on', 'coco-nanodet')
  .addOption(new Option('--epochs <n>', 'passes over the training photos').argParser(positiveInt).default(40))
  .addOption(new Option('--val-split <fraction>', 'share of photos held out to measure the model, 0 to below 1').argParser(numberIn(0, 1, 'a fraction from 0 to below 1')).default(0.15))
  .addOption(new Option('--batch-size <n>', 'photos per step').argParser(positiveInt).default(8))
  .addOption(new Option('--learning-rate <lr>', 'peak learning rate (Adam)').argParser(numberIn(1e-6, 1, 'a number from 0.000001 to below 1')).default(0.002))
  .option('--init <model>', 'start from the head (and tuned tail) of this installed model, e.g. fashion-ccp: categories it knows by name keep what it learnt, new ones start fresh')
  .addOption(new Option('--width <n>', 'channels of the trained head (default: 64, or the --init model\'s)').argParser(positiveInt))
  .option('--no-context', 'leave out the head\'s photo-wide context (the mean of the coarsest features)')
  .option('--pose', 'give the head where each cell is relative to the wearer\'s body (MoveNet Lightning, which then runs with every detection)')
  .addOption(new Option('--tune-tail [units]', 'also fine-tune the last units (1 to 3; 1 if no number is given) of the base\'s backbone with its lateral into the pyramid (slower; the model then carries those weights); with --init, as many as that model carries unless given').argParser(positiveInt))
  .addOption(new Option('--tail-learning-rate <share>', 'with --tune-tail: its learning rate as a share of the head\'s').argParser(numberIn(0.001, 1.0001, 'a share from 0.001 to 1')).default(0.1))
  .addOption(new Option('--repeat-threshold <share>', 'show photos with categories rarer than this share of photos more often; 0 turns it off').argParser(numberIn(0, 1.0001, 'a share from 0 to 1')).default(0.3))
  .addOption(new Option('--threads <n>', 'threads that share each batch (default: one per core on the wasm backend)').argParser(positiveInt))
  .addOption(new Option('--zoom-out <share>', 'scale augmentation: also learn from each photo shrunk to this share of its size; 1 turns it off').argParser(numberIn(0.3, 1.0001, 'a share above 0.3, at most 1')).default(0.8))
  .option('--input <WxH>', 'model input size, multiples of 32 (default: shaped like the photos, e.g. 352x512 for portraits)')
  .addOption(
    new Option('--seed <n>', 'seed of the validation split and the shuffles')
      .argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number, 0 or more');
        return n;
      })
      .default(0),
  )
  .option('--id <id>', 'model id (default: the name of the --out folder)')
  .addOption(
    new Option('--model-version <x.y.z>', 'model version for the manifest (default 1.0.0)').argParser((v) => {
      if (!/^\d+\.\d+\.\d+$/.test(v)) throw new InvalidArgumentError('must look like 1.2.0');
      return v;
    }),
  )
  .option('--name <text>', 'model name shown in lists')
  .option('--license <text>', 'licence line for the manifest')
  .option('--cite <text>', 'citation of the data, written in the model card')
  .addOption(new Option('--presence-loss <weight>', 'also learn which categories each photo holds (its boxes, its tags) from the pooled coarsest features, with this weight: trains the shared layers from tags too').argParser(numberIn(0.0001, 10.0001, 'a weight above 0, at most 10')))
  .addOption(new Option('--ema <decay>', 'make the model an exponential moving average of the weights over the steps, with this decay per step (e.g. 0.998): steadier than the last step\'s weights').argParser(numberIn(0.5, 1, 'a decay from 0.5 to below 1')))
  .option('--tags <tags.json>', 'also learn from photos that only name the categories they hold (COCO-like: images, categories, image_labels)')
  .option('--tag-images <dir>', 'with --tags: the folder its file_name entries are relative to')
  .option('--pseudo-labels <labels.json>', "with --tags: the model's boxes on the tagged photos (a file from label) instead of running --pseudo-model")
  .option('--pseudo-model <id>', "with --tags: the model whose boxes on the tagged photos are kept for their tagged categories (default: the default model)")
  .option('--no-cache', `keep the base's features of every photo in memory (${FEATURES_SIZE_NOTE}) instead of in the temporary folder, where they are read for each batch and kept between runs`)
  .addOption(new Option('--progress <kind>', 'progress display on stderr').choices(['auto', 'lines', 'none']).default('auto'))
  .action(async (opts) => {
    process.exitCode = await runTrain(opts);
  });

addDatasetCommands(program);

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') {
      process.exitCode = EXIT.ok;
    } else if (code?.startsWith('commander.')) {
      process.exitCode = EXIT.usage; // commander already printed the message
    } else if (err instanceof UsageError) {
      console.error(`fashion-detect: ${err.message}`);
      process.exitCode = EXIT.usage;
    } else {
      console.error(`fashion-detect: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = EXIT.fatal;
    }
  }
}

void main();
