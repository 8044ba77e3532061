import { compareNames } from '../formats/labelled-images.js';
import { HammingIndex } from './hamming-index.js';
import type { PhotoHash } from './phash.js';

/** A photo as the grouping needs it: plain data, as the workspace and the command line both have it. */
export interface HashedPhoto {
  /** The photo's path as shown (relative to the folder, or as written in a COCO file). */
  name: string;
  /** Upright size in pixels. */
  width: number;
  height: number;
  /** The file's size in bytes, where known: of two copies of one size, the larger was compressed less. */
  fileBytes?: number;
  hash: PhotoHash;
}

export interface NearDuplicateOptions {
  /** Most bits (of 128) in which two near-duplicates differ; DEFAULT_MAX_DISTANCE where absent. */
  maxDistance?: number;
  /** Whether a photo and its mirror image count as near-duplicates. */
  mirror?: boolean;
}

/**
 * Measured on CCP photos with altered copies (tests/core/dedupe-ccp.test.ts): copies resized, recompressed,
 * brightened or cropped lie at most about 20 bits from their original, distinct street photos 25 or more.
 */
export const DEFAULT_MAX_DISTANCE = 20;

export interface NearDuplicatePair {
  /** Indices into the photos given. */
  a: number;
  b: number;
  distance: number;
}

/**
 * The photo to keep of a group comes first: the most pixels (the least scaled down), then the larger
 * file (the least compressed), then the name in code-point order, so the choice never depends on
 * the order the photos came in.
 */
export function keepFirst(a: HashedPhoto, b: HashedPhoto): number {
  return b.width * b.height - a.width * a.height || (b.fileBytes ?? 0) - (a.fileBytes ?? 0) || compareNames(a.name, b.name);
}

/**
 * Calls `visit` for every pair of photos within the distance (a pair may come more than once). A copy
 * cropped at its edges is found through the `inner` hash (the original without a margin) against the
 * copy's `whole`; with `mirror`, the mirror images' hashes are looked up too.
 */
function forEachNearPair(photos: readonly HashedPhoto[], options: NearDuplicateOptions, visit: (i: number, j: number, distance: number) => void): void {
  const index = new HammingIndex(photos.map((p) => p.hash.whole), options.maxDistance ?? DEFAULT_MAX_DISTANCE);
  photos.forEach((photo, i) => {
    const queries = [photo.hash.whole, photo.hash.inner];
    if (options.mirror) queries.push(photo.hash.wholeMirror, photo.hash.innerMirror);
    for (const query of queries) index.near(query, (j, distance) => j !== i && visit(i, j, distance));
  });
}

/** Every pair of photos within the distance, each pair once with its smallest distance, in index order. */
export function nearDuplicatePairs(photos: readonly HashedPhoto[], options: NearDuplicateOptions = {}): NearDuplicatePair[] {
  const best = new Map<number, NearDuplicatePair>();
  forEachNearPair(photos, options, (i, j, distance) => {
    const [a, b] = i < j ? [i, j] : [j, i];
    const key = a * photos.length + b;
    const known = best.get(key);
    if (!known || distance < known.distance) best.set(key, { a, b, distance });
  });
  return [...best.values()].sort((x, y) => x.a - y.a || x.b - y.b);
}

/** Photos linked by a chain of near-duplicate pairs, as index lists of two or more (union-find as pairs come). */
function linkedPhotos(photos: readonly HashedPhoto[], options: NearDuplicateOptions): number[][] {
  const parent = Int32Array.from({ length: photos.length }, (_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  forEachNearPair(photos, options, (a, b) => {
    const ra = root(a);
    const rb = root(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  });
  const members = new Map<number, number[]>();
  for (let i = 0; i < photos.length; i++) {
    const r = root(i);
    const list = members.get(r);
    if (list) list.push(i);
    else members.set(r, [i]);
  }
  return [...members.values()].filter((m) => m.length > 1);
}

/**
 * Groups of near-duplicates by name: photos linked by a chain of near-duplicate pairs are one group.
 * Each group lists the photo to keep first (keepFirst), the rest in the same order; groups are in
 * the order of their first photo's name. Photos without a near-duplicate are in no group.
 */
export function groupNearDuplicates(photos: readonly HashedPhoto[], options: NearDuplicateOptions = {}): string[][] {
  return linkedPhotos(photos, options)
    .map((group) => group.map((i) => photos[i]).sort(keepFirst).map((p) => p.name))
    .sort((x, y) => compareNames(x[0], y[0]));
}
