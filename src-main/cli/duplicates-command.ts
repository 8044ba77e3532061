import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../core/base/atomic-write.js';
import { UsageError } from '../core/base/errors.js';
import { groupNearDuplicates } from '../core/dedupe/groups.js';
import { splitCoco, withoutNearDuplicates } from '../core/dedupe/split.js';
import { cocoDocumentSchema, cocoProblems, fillAnnotationDefaults, type CocoDocument } from '../core/formats/coco.js';
import { readJsonFile } from '../core/lint/coco-input.js';
import { EXIT } from './exit-codes.js';
import { stopOnInterrupt } from './interrupt.js';
import { hashWithProgress, photoSource } from './photo-source.js';
import type { ProgressKind } from './progress-report.js';

export interface DuplicatesOptions {
  maxDistance?: number;
  mirror?: boolean;
  json?: boolean;
  images?: string;
  progress: ProgressKind;
}

/** Groups of near-duplicate photos, the one to keep first; on stdout as text or as one JSON document. */
export async function runDuplicates(input: string, opts: DuplicatesOptions): Promise<number> {
  const source = await photoSource(input, opts.images);
  const interrupt = stopOnInterrupt('grouping the photos hashed so far');
  let hashed;
  try {
    hashed = await hashWithProgress(source, opts.progress, interrupt.signal);
  } finally {
    interrupt.release();
  }
  const groups = groupNearDuplicates(hashed.photos, { maxDistance: opts.maxDistance, mirror: opts.mirror });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ groups })}\n`);
  } else {
    for (const group of groups) process.stdout.write(`${group[0]}  (keep)\n${group.slice(1).map((n) => `  ${n}\n`).join('')}\n`);
  }
  const copies = groups.reduce((n, g) => n + g.length - 1, 0);
  process.stderr.write(
    `${interrupt.signal.aborted ? 'interrupted: ' : ''}${groups.length} group${groups.length === 1 ? '' : 's'} of near-duplicates among ${hashed.photos.length} photos; leaving out ${copies} would keep one of each\n`,
  );
  return interrupt.signal.aborted ? EXIT.interrupted : EXIT.ok;
}

export interface SplitOptions {
  val: number;
  out: string;
  seed: number;
  images?: string;
  maxDistance?: number;
  mirror?: boolean;
  leaveOutDuplicates?: boolean;
  progress: ProgressKind;
}

function readCoco(file: string): CocoDocument {
  const raw = readJsonFile(file);
  fillAnnotationDefaults(raw);
  const parsed = cocoDocumentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${file}: not a sound COCO detection file (${issue.path.join('.') || 'document'}: ${issue.message}); fashion-detect lint lists what is wrong`);
  }
  const problems = cocoProblems(parsed.data);
  if (problems.length > 0) throw new UsageError(`${file}: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}; fashion-detect lint lists what is wrong`);
  return parsed.data;
}

/** Train and validation COCO files with every near-duplicate group on one side. */
export async function runSplit(labels: string, opts: SplitOptions): Promise<number> {
  const doc = readCoco(labels);
  if (fs.existsSync(opts.out) && !fs.statSync(opts.out).isDirectory()) throw new UsageError(`--out ${opts.out}: is a file, not a folder`);
  const source = await photoSource(labels, opts.images);
  const hashed = await hashWithProgress(source, opts.progress);
  const groups = groupNearDuplicates(hashed.photos, { maxDistance: opts.maxDistance, mirror: opts.mirror });
  if (hashed.problems.length > 0) process.stderr.write(`the photos that could not be read are split as if they had no near-duplicate\n`);
  const input = opts.leaveOutDuplicates ? withoutNearDuplicates(doc, groups) : doc;
  const { train, val } = splitCoco(input, opts.leaveOutDuplicates ? [] : groups, opts.val, opts.seed);
  fs.mkdirSync(opts.out, { recursive: true });
  const write = (name: string, part: CocoDocument) => {
    const file = path.join(opts.out, name);
    writeFileAtomic(file, JSON.stringify(part));
    process.stderr.write(`${name.replace('.json', '')}: ${part.images.length} photos, ${part.annotations.length} boxes -> ${file}\n`);
  };
  write('train.json', train);
  write('val.json', val);
  const inGroups = groups.reduce((n, g) => n + g.length, 0);
  process.stderr.write(
    opts.leaveOutDuplicates
      ? `${groups.length} near-duplicate groups: the first photo of each kept, ${inGroups - groups.length} left out\n`
      : `${groups.length} near-duplicate groups (${inGroups} photos), each on one side\n`,
  );
  return EXIT.ok;
}
