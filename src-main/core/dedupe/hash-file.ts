import os from 'node:os';
import { FileProblem } from '../base/errors.js';
import { decodeGreyThumbnail, type LetterboxedImage } from '../images/decode.js';
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

/**
 * Each source pixel's place along one axis of a thumbnail `out` cells long (out <= size): the cell it
 * starts in and the share of its length that falls there; the rest falls in the next cell.
 */
function cellShares(size: number, out: number): { cell: Int32Array; first: Float32Array; length: number } {
  const length = out / size;
  const cell = new Int32Array(size);
  const first = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const from = i * length;
    cell[i] = Math.min(out - 1, Math.floor(from));
    first[i] = Math.min(length, cell[i] + 1 - from);
  }
  return { cell, first, length };
}

/**
 * The perceptual hashes of a photo the detector has decoded: the upright picture scaled into the top
 * left of its letterbox (core/images). Its grey levels are averaged down to a thumbnail of at most
 * HASH_INPUT_SIDE a side in one pass over the pixels, as hashImageFile's decoder does, so both hashes
 * of a photo lie a few bits apart (tests/core/letterbox-hash.test.ts) and it costs about a millisecond.
 */
export function hashLetterboxed(image: Pick<LetterboxedImage, 'rgb' | 'box'>): PhotoHash {
  const { rgb, box } = image;
  const width = box.scaledWidth;
  const height = box.scaledHeight;
  const stride = box.dstWidth * 3;
  const outWidth = Math.min(HASH_INPUT_SIDE, width);
  const outHeight = Math.min(HASH_INPUT_SIDE, height);
  // A sliver of a picture (a panorama's height of a few pixels) is hashed as it is.
  if (outWidth < 32 || outHeight < 32) return hashPixels({ data: rgb, width, height, channels: 3, rowStride: box.dstWidth });
  const cols = cellShares(width, outWidth);
  const rows = cellShares(height, outHeight);
  const sums = new Float32Array(outWidth * (outHeight + 1));
  const across = new Float32Array(outWidth + 1);
  for (let y = 0; y < height; y++) {
    across.fill(0);
    for (let x = 0, p = y * stride; x < width; x++, p += 3) {
      const grey = 0.299 * rgb[p] + 0.587 * rgb[p + 1] + 0.114 * rgb[p + 2];
      const c = cols.cell[x];
      const share = cols.first[x];
      across[c] += grey * share;
      across[c + 1] += grey * (cols.length - share);
    }
    const top = rows.cell[y] * outWidth;
    const share = rows.first[y];
    const rest = rows.length - share;
    for (let o = 0; o < outWidth; o++) {
      sums[top + o] += across[o] * share;
      sums[top + outWidth + o] += across[o] * rest;
    }
  }
  const grey = new Uint8Array(outWidth * outHeight);
  for (let i = 0; i < grey.length; i++) grey[i] = Math.min(255, Math.round(sums[i]));
  return hashPixels({ data: grey, width: outWidth, height: outHeight, channels: 1 });
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
