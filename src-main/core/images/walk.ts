import fs from 'node:fs/promises';
import path from 'node:path';
import { isImagePath } from './decode.js';

/** Extensions of pictures the detector cannot read: listed as problems rather than silently skipped. */
const OTHER_IMAGE_EXTENSIONS = new Set(['.bmp', '.svg', '.psd', '.ico', '.jxl', '.jp2', '.cr2', '.nef', '.arw', '.dng', '.raw', '.tga', '.pcx', '.xcf']);

export interface WalkProblem {
  file: string;
  reason: string;
}

export interface WalkResult {
  /** Absolute paths of image files, sorted by their path relative to the root. */
  files: string[];
  /** Entries that could not be read, and pictures in formats that are not supported. */
  problems: WalkProblem[];
}

/**
 * Every image under `root`, recursively. Symbolic links are followed, each real folder is visited once
 * (so a link loop ends), hidden entries (dot files, macOS `._` forks) are skipped, and an unreadable
 * entry is recorded as a problem instead of stopping the walk.
 */
export async function findImages(root: string): Promise<WalkResult> {
  const files: string[] = [];
  const problems: WalkProblem[] = [];
  const seenDirs = new Set<string>();
  const seenFiles = new Set<string>();
  const absRoot = path.resolve(root);

  async function visit(dir: string): Promise<void> {
    let real: string;
    try {
      real = await fs.realpath(dir);
    } catch (err) {
      problems.push({ file: dir, reason: errnoReason(err) });
      return;
    }
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      problems.push({ file: dir, reason: `folder cannot be read: ${errnoReason(err)}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const st = await fs.stat(full);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch (err) {
          problems.push({ file: full, reason: `broken or looping link: ${errnoReason(err)}` });
          continue;
        }
      }
      if (isDir) {
        await visit(full);
      } else if (isFile) {
        const ext = path.extname(entry.name).toLowerCase();
        if (isImagePath(entry.name)) {
          let realFile = full;
          try {
            realFile = await fs.realpath(full);
          } catch {
            // keep the path as found; reading it will report the problem
          }
          if (seenFiles.has(realFile)) continue;
          seenFiles.add(realFile);
          files.push(full);
        } else if (OTHER_IMAGE_EXTENSIONS.has(ext)) {
          problems.push({ file: full, reason: `unsupported format ${ext.slice(1).toUpperCase()} (JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC)` });
        }
      }
    }
  }

  try {
    const st = await fs.stat(absRoot);
    if (!st.isDirectory()) throw new Error(`${root} is not a folder`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw new Error(`${root}: ${errnoReason(err)}`);
    throw err;
  }
  await visit(absRoot);
  const rel = (f: string) => toPosix(path.relative(absRoot, f));
  files.sort((a, b) => (rel(a) < rel(b) ? -1 : rel(a) > rel(b) ? 1 : 0));
  return { files, problems };
}

export function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

export function errnoReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'not found';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENOTDIR':
      return 'not a folder';
    default:
      return (err as Error).message;
  }
}
