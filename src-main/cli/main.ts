#!/usr/bin/env node
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { runDetect } from './detect-command.js';
import { runEval } from './eval-command.js';
import { runInfo } from './info-command.js';
import { runLabel } from './label-command.js';
import { runMerge } from './merge-command.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from '../core/errors.js';

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
const minScoreOption = () => new Option('-s, --min-score <score>', 'drop detections scoring below this, 0 to 1').argParser(minScore).default(0.35);

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
  .addOption(new Option('--shard <K/N>', 'label only the K-th of N stable shares of the files, to spread a folder over machines'))
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
  .addOption(new Option('-s, --min-score <score>', 'with --images: drop detections scoring below this, 0 to 1 (low, so AP sees the whole curve)').argParser(minScore).default(0.05))
  .addOption(new Option('-w, --workers <n>', 'with --images: worker threads (default: one per core)').argParser(positiveInt))
  .option('--plots <dir>', 'write a precision-recall curve PNG per category into this folder')
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
