import fs from 'node:fs';
import { writeFileAtomic } from '../core/base/atomic-write.js';
import { cocoDocumentSchema, cocoProblems, mergeCocoDocuments } from '../core/formats/coco.js';
import { UsageError } from '../core/base/errors.js';
import { EXIT } from './exit-codes.js';

export async function runMerge(files: string[], opts: { out: string }): Promise<number> {
  const docs = files.map((name) => {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(name, 'utf8'));
    } catch (err) {
      throw new UsageError(`${name}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `not valid JSON (${(err as Error).message})`}`);
    }
    const parsed = cocoDocumentSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UsageError(`${name}: not a COCO detection file: ${issue.path.join('.')}: ${issue.message}`);
    }
    const problems = cocoProblems(parsed.data);
    if (problems.length > 0) throw new UsageError(`${name}: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more problems)` : ''}`);
    return { name, doc: parsed.data };
  });
  let merged;
  try {
    merged = mergeCocoDocuments(docs);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  writeFileAtomic(opts.out, JSON.stringify(merged));
  console.error(`fashion-detect: merged ${files.length} files: ${merged.images.length} images, ${merged.annotations.length} boxes -> ${opts.out}`);
  return EXIT.ok;
}
