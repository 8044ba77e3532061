import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../base/backend.js';
import { imageToInputTensor } from '../models/input-tensor.js';
import { decodeLetterboxed, type LetterboxedImage } from '../images/decode.js';
import type { Letterbox } from '../images/letterbox.js';
import type { ModelManifest } from '../models/manifest.js';
import { formatBytes } from '../../common/format.js';
import { RunError } from '../base/errors.js';
import { bodyOf, keypointsOfBytes, type PoseModel } from '../models/pose.js';

/**
 * The frozen base's outputs (its pyramid, or the parts before a tuned tail), computed once per photo
 * (and once per mirrored photo) and kept, so an epoch costs only what is trained. They are stored
 * NHWC per output, outputs in order, in one array.
 */
export interface FeatureSample {
  /**
   * The base's outputs: in memory when nothing caches them, else the cache file they are read from
   * for each batch (`featureData`), so that a training holds one batch of pyramids, not all of them.
   */
  features: Float32Array | CachedFeatures;
  box: Letterbox;
  flipped: boolean;
  /** The wearer's body on the picture as the base saw it (pose.ts), when the head takes it. */
  body?: Float32Array;
}

/** A sample's pyramid left in its cache file. */
export interface CachedFeatures {
  cacheFile: string;
}

/** How a photo is shown to the base: mirrored or not, and scaled to `zoom` of the fitted size (1: as the Detector sees it). */
export interface PhotoVariant {
  flip: boolean;
  zoom: number;
}

/** The letterboxed picture at `zoom` of its fitted size, top-left in a full-size canvas of padding. */
async function decodeZoomed(file: string, width: number, height: number, padValue: number, zoom: number): Promise<LetterboxedImage> {
  if (zoom === 1) return decodeLetterboxed(file, width, height, padValue);
  const small = await decodeLetterboxed(file, Math.round(width * zoom), Math.round(height * zoom), padValue);
  const rgb = Buffer.alloc(width * height * 3, padValue);
  const rowBytes = small.box.dstWidth * 3;
  for (let y = 0; y < small.box.dstHeight; y++) small.rgb.copy(rgb, y * width * 3, y * rowBytes, (y + 1) * rowBytes);
  return { ...small, rgb, box: { ...small.box, dstWidth: width, dstHeight: height } };
}

/** Mirrors the picture part of a letterboxed image (the padding stays on the right). */
export function mirrorLetterboxed(image: LetterboxedImage): LetterboxedImage {
  const { dstWidth, scaledWidth, scaledHeight } = image.box;
  const rgb = Buffer.from(image.rgb);
  for (let y = 0; y < scaledHeight; y++) {
    const row = y * dstWidth * 3;
    for (let x = 0; x < scaledWidth; x++) {
      const from = row + (scaledWidth - 1 - x) * 3;
      const to = row + x * 3;
      rgb[to] = image.rgb[from];
      rgb[to + 1] = image.rgb[from + 1];
      rgb[to + 2] = image.rgb[from + 2];
    }
  }
  return { ...image, rgb };
}

export interface FeatureExtractor {
  graph: tf.GraphModel;
  outputs: string[];
  input: ModelManifest['input'];
  /** Identifies base, input size and outputs in cache keys. */
  fingerprint: string;
  /** The pose model, when the head takes the wearer's body: its summary is cached beside the features. */
  pose?: PoseModel;
}

const HEADER_FLOATS = 8;

/**
 * The cache file of a photo variant, named by the photo's bytes (not its path or time): a folder copied
 * or moved elsewhere keeps its cache, and a photo changed in place gets a new one.
 */
function cacheFile(cacheDir: string, extractor: FeatureExtractor, file: string, variant: PhotoVariant): string {
  const photo = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const key = createHash('sha256')
    .update([extractor.fingerprint, photo, variant.flip ? 'flip' : 'plain', ...(variant.zoom === 1 ? [] : [`zoom ${variant.zoom}`])].join('\n'))
    .digest('hex')
    .slice(0, 32);
  return path.join(cacheDir, `${key}.f32`);
}

/** The picture as the base is shown it: letterboxed, at `variant`'s zoom, mirrored or not. */
async function variantPicture(extractor: FeatureExtractor, file: string, variant: PhotoVariant): Promise<LetterboxedImage> {
  const { width, height, padValue } = extractor.input;
  const image = await decodeZoomed(file, width, height, padValue, variant.zoom);
  return variant.flip ? mirrorLetterboxed(image) : image;
}

/** What one photo variant's pyramid takes, in memory or in the cache (the feature pyramid of coco-nanodet at fashion-ccp's input). */
export const FEATURES_SIZE_NOTE = 'about 2.4 MB a photo variant at 384x576';

/**
 * The feature cache cannot be written (a full disk, a folder that cannot be made): every photo would
 * fail alike, so the training stops rather than going on without them.
 */
export class CacheWriteFailure extends RunError {
  constructor(
    readonly dir: string,
    readonly why: string,
  ) {
    super((n) => `the base's features cannot be cached in ${dir}: ${why}. Free space there, or keep them in memory instead with ${n('cacheDir')} (${FEATURES_SIZE_NOTE})`);
  }
}

function cacheWriteFailure(dir: string, err: unknown): CacheWriteFailure {
  const code = (err as NodeJS.ErrnoException).code;
  return new CacheWriteFailure(dir, code === 'ENOSPC' ? 'no space is left on its disk' : (err as Error).message);
}

/** Writes a cache file whole or not at all. */
function writeCache(file: string, data: Float32Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw cacheWriteFailure(path.dirname(file), err);
  }
}

/** Cache files no training has used for this long are deleted when a training starts. */
const CACHE_UNUSED_DAYS = 30;

/** Marks a cache file as used, so that pruning keeps it; a cache that may be read but not touched still serves. */
function markUsed(file: string): void {
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
  } catch {
    // Read-only cache: it is simply not pruned by its use.
  }
}

/**
 * Deletes the cache files unused for `CACHE_UNUSED_DAYS` (every use touches a file), so that photos
 * long changed, deleted or trained on once do not fill the disk: %TEMP% on Windows is never cleared.
 * A training in progress touched its files when it started, so it keeps them.
 */
function pruneCache(cacheDir: string): { files: number; bytes: number } {
  const oldest = Date.now() - CACHE_UNUSED_DAYS * 86_400_000;
  const removed = { files: 0, bytes: 0 };
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(cacheDir, { withFileTypes: true });
  } catch {
    return removed; // A folder that cannot be listed: its writes, if they fail too, say why.
  }
  for (const entry of entries) {
    if (!entry.isFile() || !/\.(f32|body|tmp)$/.test(entry.name)) continue;
    const file = path.join(cacheDir, entry.name);
    try {
      const stat = fs.statSync(file);
      if (stat.mtimeMs >= oldest) continue;
      fs.rmSync(file);
      removed.files++;
      removed.bytes += stat.size;
    } catch {
      // Gone already, or not ours to delete: left as it is.
    }
  }
  return removed;
}


/**
 * Makes the cache folder, prunes it, and says what the photos' features take there, beside the disk's
 * free space: at 2.4 MB a variant, 10,000 photos take 70 GB, which a person should see before the disk fills.
 */
export function prepareCache(cacheDir: string, variants: number, shapes: readonly { rows: number; cols: number; channels: number }[]): string {
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
  } catch (err) {
    throw cacheWriteFailure(cacheDir, err);
  }
  const pruned = pruneCache(cacheDir);
  const bytes = variants * 4 * (HEADER_FLOATS + shapes.reduce((n, s) => n + s.rows * s.cols * s.channels, 0));
  const disk = fs.statfsSync(cacheDir);
  const free = disk.bavail * disk.bsize;
  const prunedNote = pruned.files > 0 ? ` (${pruned.files} ${pruned.files === 1 ? 'file' : 'files'} unused for ${CACHE_UNUSED_DAYS} days deleted, ${formatBytes(pruned.bytes)})` : '';
  const line = `caching the base's features of ${variants} photo variants in ${cacheDir}: ${formatBytes(bytes)} for all of them (those cached already take no more), ${formatBytes(free)} free there${prunedNote}`;
  return bytes > free ? `${line}; unless most are cached already they will not fit` : line;
}

function readFloats(file: string): Float32Array {
  const bytes = fs.readFileSync(file);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The sample's pyramid (NHWC per output, outputs in order): from memory, or read from its cache file. */
export function featureData(sample: FeatureSample): Float32Array {
  if (sample.features instanceof Float32Array) return sample.features;
  const file = sample.features.cacheFile;
  let all: Float32Array;
  try {
    all = readFloats(file);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it is gone (was the temporary folder cleared?)' : (err as Error).message;
    throw new Error(`the base's features of a photo, cached in ${file}, cannot be read: ${why}. Run the training again: it resumes from its last epoch and reads that photo anew`);
  }
  return all.subarray(HEADER_FLOATS);
}

/**
 * One photo's pyramid (and the wearer's body, when the extractor has a pose model), read from the
 * cache when it is there, else computed and cached. The body has its own cache file, so adding pose
 * to a training reuses the pyramids already cached.
 */
export async function photoFeatures(extractor: FeatureExtractor, file: string, variant: PhotoVariant, cacheDir?: string): Promise<FeatureSample> {
  const cached = cacheDir ? cacheFile(cacheDir, extractor, file, variant) : undefined;
  const bodyFile = cached && extractor.pose ? cached.replace(/\.f32$/, `.${extractor.pose.tag.replace(/[^\w.-]/g, '_')}.body`) : undefined;
  let picture: LetterboxedImage | undefined;
  const read = async () => (picture ??= await variantPicture(extractor, file, variant));
  const sample = cached && fs.existsSync(cached) ? cachedSample(cached, variant.flip) : pyramidSample(extractor, await read(), variant.flip, cached);
  if (!extractor.pose) return sample;
  if (bodyFile && fs.existsSync(bodyFile)) {
    markUsed(bodyFile);
    return { ...sample, body: readFloats(bodyFile) };
  }
  const image = await read();
  const body = bodyOf(keypointsOfBytes(extractor.pose, image.rgb, image.box.dstWidth, image.box.dstHeight, extractor.input.padValue), image.box.dstHeight);
  if (bodyFile) writeCache(bodyFile, body);
  return { ...sample, body };
}

/** A cached sample: its letterbox from the file's header; the pyramid stays in the file. */
function cachedSample(cached: string, flipped: boolean): FeatureSample {
  markUsed(cached);
  const header = new Float32Array(HEADER_FLOATS);
  const fd = fs.openSync(cached, 'r');
  try {
    fs.readSync(fd, header, 0, header.byteLength, 0);
  } finally {
    fs.closeSync(fd);
  }
  const [srcWidth, srcHeight, dstWidth, dstHeight, scale, scaledWidth, scaledHeight] = header.subarray(0, 7);
  return { features: { cacheFile: cached }, box: { srcWidth, srcHeight, dstWidth, dstHeight, scale, scaledWidth, scaledHeight }, flipped };
}

/** The base run on the picture; cached in `cached` when given. */
function pyramidSample(extractor: FeatureExtractor, image: LetterboxedImage, flipped: boolean, cached: string | undefined): FeatureSample {
  const levels = tf.tidy(() => {
    const input = imageToInputTensor(image, extractor.input);
    return extractor.graph.execute(input, extractor.outputs) as tf.Tensor[];
  });
  const parts = levels.map((t) => ({ data: t.dataSync() as Float32Array, c: t.shape[1]!, h: t.shape[2]!, w: t.shape[3]! }));
  tf.dispose(levels);
  const total = parts.reduce((n, p) => n + p.h * p.w * p.c, 0);
  const out = new Float32Array(HEADER_FLOATS + total);
  const b = image.box;
  out.set([b.srcWidth, b.srcHeight, b.dstWidth, b.dstHeight, b.scale, b.scaledWidth, b.scaledHeight]);
  let offset = HEADER_FLOATS;
  for (const p of parts) {
    // NCHW (the graph's layout) to NHWC (the head's).
    const { c } = p;
    const plane = p.h * p.w;
    for (let ci = 0; ci < c; ci++) {
      const src = ci * plane;
      for (let i = 0; i < plane; i++) out[offset + i * c + ci] = p.data[src + i];
    }
    offset += plane * c;
  }
  if (!cached) return { features: out.subarray(HEADER_FLOATS), box: b, flipped };
  writeCache(cached, out);
  return { features: { cacheFile: cached }, box: b, flipped };
}

/** Per-channel mean and standard deviation over every cell of the given pyramids (NHWC data). */
export function featureStatistics(pyramids: Iterable<Float32Array>, channels: number): { mean: Float32Array; std: Float32Array } {
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  let n = 0;
  for (const f of pyramids) {
    for (let i = 0; i < f.length; i += channels) {
      for (let c = 0; c < channels; c++) {
        const v = f[i + c];
        sum[c] += v;
        sq[c] += v * v;
      }
    }
    n += f.length / channels;
  }
  const mean = new Float32Array(channels);
  const std = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    mean[c] = sum[c] / n;
    std[c] = Math.sqrt(Math.max(1e-8, sq[c] / n - mean[c] * mean[c])) + 1e-3;
  }
  return { mean, std };
}
