import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../core/base/errors.js';
import { hashFiles, type HashFilesResult } from '../core/dedupe/hash-file.js';
import { findImages, toPosix } from '../core/images/walk.js';
import { checkCocoStructure, readJsonFile } from '../core/lint/coco-input.js';
import { progressReport, type ProgressKind } from './progress-report.js';

export interface PhotoSource {
  /** Photos by the name shown (relative to the folder, or as the COCO file writes it) and where the file is. */
  entries: { name: string; file: string }[];
  /** Entries of a folder that could not be read. */
  problems: { name: string; reason: string }[];
}

/**
 * The photos of a folder (searched recursively) or of a COCO file. A COCO file's file_name entries are
 * found under `imagesDir`, or else beside the file (the folder it lies in).
 */
export async function photoSource(input: string, imagesDir?: string): Promise<PhotoSource> {
  let isFolder: boolean;
  try {
    isFolder = fs.statSync(input).isDirectory();
  } catch {
    throw new UsageError(`${input}: no such folder or file`);
  }
  if (isFolder) {
    if (imagesDir) throw new UsageError('--images goes with a COCO file, not with a folder');
    const root = path.resolve(input);
    const walk = await findImages(root);
    const rel = (f: string) => toPosix(path.relative(root, f)) || f;
    return { entries: walk.files.map((file) => ({ name: rel(file), file })), problems: walk.problems.map((p) => ({ name: rel(p.file), reason: p.reason })) };
  }
  const structure = checkCocoStructure(readJsonFile(input), input);
  const base = imagesDir ?? path.dirname(path.resolve(input));
  if (imagesDir && !(fs.existsSync(imagesDir) && fs.statSync(imagesDir).isDirectory())) throw new UsageError(`--images ${imagesDir}: no such folder`);
  const entries = structure.photos.map((p) => ({ name: p.name, file: path.resolve(base, p.name) }));
  if (entries.length > 0 && !entries.some((e) => fs.existsSync(e.file))) {
    throw new UsageError(`${input}: none of its ${entries.length} photos (e.g. ${entries[0].name}) are under ${base}; give the folder they are in with --images DIR`);
  }
  return { entries, problems: [] };
}

/** Hashes the photos with progress on stderr, and lists those that could not be read. */
export async function hashWithProgress(source: PhotoSource, progress: ProgressKind, signal?: AbortSignal): Promise<HashFilesResult> {
  const report = progressReport(progress, 'hashing');
  report.start(source.entries.length);
  let result: HashFilesResult;
  try {
    result = await hashFiles(source.entries, { signal, onProgress: (done) => report.update(done) });
  } finally {
    report.stop();
  }
  const problems = [...source.problems, ...result.problems];
  if (problems.length > 0) {
    process.stderr.write(`${problems.length} photo${problems.length === 1 ? '' : 's'} could not be read and ${problems.length === 1 ? 'is' : 'are'} in no group:\n`);
    for (const p of problems) process.stderr.write(`  ${p.name}: ${p.reason}\n`);
  }
  return { photos: result.photos, problems };
}
