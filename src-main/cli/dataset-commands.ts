// The commands that clean a data set: duplicates, split and lint.
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MAX_DISTANCE } from '../core/dedupe/groups.js';
import { runDuplicates, runSplit } from './duplicates-command.js';
import { runLint } from './lint-command.js';

function maxDistance(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new InvalidArgumentError('must be a whole number from 0 to 64');
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 1) throw new InvalidArgumentError('must be a share above 0 and below 1, e.g. 0.15');
  return n;
}

function wholeNumber(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be a whole number, ${min} or more`);
    return n;
  };
}

const progressOption = () => new Option('--progress <kind>', 'progress display on stderr').choices(['auto', 'bar', 'lines', 'none']).default('auto');
const distanceOption = () =>
  new Option('--max-distance <bits>', `most bits (of 128: DCT and difference hashes) in which near-duplicates differ`).argParser(maxDistance).default(DEFAULT_MAX_DISTANCE);
const mirrorOption = () => new Option('--mirror', 'count a photo and its mirror image as near-duplicates');
const imagesOption = (what: string) => new Option('--images <dir>', `folder the file_name entries are relative to (default: the COCO file's folder)${what}`);

/** Output piped into `head` may be cut short: that ends the command quietly, not with a stack trace. */
function quietOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}

export function addDatasetCommands(program: Command): void {
  program.hook('preAction', (_, command) => {
    if (['duplicates', 'split', 'lint'].includes(command.name())) quietOnClosedPipe();
  });
  program
    .command('duplicates')
    .description('find near-duplicate photos (resized, recompressed, cropped, brightened copies) by perceptual hash')
    .argument('<dir-or-labels>', 'a folder of photos (searched recursively) or a COCO file')
    .addOption(distanceOption())
    .addOption(mirrorOption())
    .addOption(imagesOption(''))
    .option('--json', 'print {"groups": [[path, ...], ...]}, the photo to keep first in each group')
    .addOption(progressOption())
    .action(async (input: string, opts) => {
      process.exitCode = await runDuplicates(input, opts);
    });

  program
    .command('split')
    .description('write train.json and val.json with every group of near-duplicate photos on one side')
    .argument('<labels.json>', 'a COCO detection file')
    .requiredOption('--val <share>', 'share of the photos for validation, e.g. 0.15', fraction)
    .requiredOption('-o, --out <dir>', 'folder to write train.json and val.json into')
    .addOption(new Option('--seed <n>', 'seed of the split: the same seed gives the same split').argParser(wholeNumber(0)).default(0))
    .option('--leave-out-duplicates', 'keep only the first photo of each near-duplicate group (the one with the most pixels)')
    .addOption(distanceOption())
    .addOption(mirrorOption())
    .addOption(imagesOption(''))
    .addOption(progressOption())
    .action(async (labels: string, opts) => {
      process.exitCode = await runSplit(labels, opts);
    });

  program
    .command('lint')
    .description('list boxes that look wrong and faults of a COCO file, most suspicious first (exit 3 when any)')
    .argument('<labels.json>', 'a COCO detection file')
    .addOption(imagesOption('; with it, a model is also run on each photo'))
    .addOption(new Option('-m, --model <id-or-folder>', 'with --images: the model to check the boxes with (default: the built-in model)'))
    .addOption(new Option('-w, --workers <n>', 'with --images: worker threads (default: one per core)').argParser(wholeNumber(1)))
    .option('--json', 'print {"problems": [{"annotation_id", "image_id", "kind", "message", "score"}, ...]}')
    .addOption(progressOption())
    .action(async (labels: string, opts) => {
      process.exitCode = await runLint(labels, opts);
    });
}
