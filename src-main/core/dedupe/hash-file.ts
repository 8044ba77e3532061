import os from 'node:os';
import { FileProblem } from '../base/errors.js';
import { decodeGreyThumbnail } from '../images/decode.js';
import type { HashedPhoto } from './groups.js';
import { HASH_INPUT_SIDE, hashPixels, type PhotoHash } from './phash.js';

export interface HashedFile {
  /** Upright size in pixels. */
  width: number;
  height: number;
  fileBytes: number;
  hash: PhotoHash;
}

/** Decodes a photo (EXIF orientation applied) and hashes it. Fails with FileProblem as every decode does. */
export async function hashImageFile(file: string): Promise<HashedFile> {
  const thumb = await decodeGreyThumbnail(file, HASH_INPUT_SIDE);
  const hash = hashPixels({ data: thumb.grey, width: thumb.side, height: thumb.side, channels: 1 });
  return { width: thumb.width, height: thumb.height, fileBytes: thumb.fileBytes, hash };
}

export interface HashFilesOptions {
  /** Photos decoded at once (default: two per core; sharp decodes on its own threads). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface HashFilesResult {
  photos: HashedPhoto[];
  /** Photos that could not be read, with the reason. */
  problems: { name: string; reason: string }[];
}

/** Hashes photos given by name and path, in the order given; unreadable ones are listed, not thrown. */
export async function hashFiles(entries: readonly { name: string; file: string }[], options: HashFilesOptions = {}): Promise<HashFilesResult> {
  const concurrency = options.concurrency ?? Math.max(2, 2 * (os.availableParallelism?.() ?? os.cpus().length));
  const results: (HashedPhoto | undefined)[] = new Array(entries.length);
  const problems: HashFilesResult['problems'] = [];
  let next = 0;
  let done = 0;
  const work = async () => {
    while (next < entries.length && !options.signal?.aborted) {
      const { name, file } = entries[next++];
      const k = next - 1;
      try {
        const hashed = await hashImageFile(file);
        results[k] = { name, ...hashed };
      } catch (err) {
        problems.push({ name, reason: err instanceof FileProblem ? err.reason : err instanceof Error ? err.message : String(err) });
      }
      options.onProgress?.(++done, entries.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, entries.length) }, work));
  return { photos: results.filter((p): p is HashedPhoto => p !== undefined), problems: problems.sort((a, b) => (a.name < b.name ? -1 : 1)) };
}
