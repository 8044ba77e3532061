import fs from 'node:fs/promises';
import sharp from 'sharp';
import { FileProblem } from '../base/errors.js';
import { letterboxFor, type Letterbox } from './letterbox.js';

/** Formats the detector reads. sharp reports AVIF and HEIC both as `heif`. */
export const SUPPORTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);
export const IMAGE_EXTENSIONS = new Set([
  '.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif',
]);

/** Guards against decompression bombs: sharp refuses images with more pixels than this (16383 x 16383). */
export const MAX_INPUT_PIXELS = 268_402_689;

export function isImagePath(file: string): boolean {
  const dot = file.lastIndexOf('.');
  return dot >= 0 && IMAGE_EXTENSIONS.has(file.slice(dot).toLowerCase());
}

/** Upright size: EXIF orientations 5 to 8 swap width and height. */
export interface ImageSize {
  width: number;
  height: number;
}

export interface LetterboxedImage extends ImageSize {
  /** Interleaved 8-bit RGB of the letterboxed picture, `box.dstWidth` x `box.dstHeight`. */
  rgb: Buffer;
  box: Letterbox;
  format: string;
}

function openSharp(input: Buffer): sharp.Sharp {
  // `pages: 1` takes the first frame of animated GIF/WebP; `failOn: 'error'` rejects truncated data
  // instead of returning grey pixels; `limitInputPixels` stops decompression bombs before decoding.
  return sharp(input, { pages: 1, failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true });
}

/** libvips keeps one error buffer for all its threads, so under load a failure's reason can be lost. */
function uninformative(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return !message.trim() || /^unknown error$/i.test(message.trim());
}

function describeSharpError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // The header was read (readImageInfo) but the pixels were not: the data is what failed.
  if (uninformative(err)) return 'damaged image data (the decoder gave no details)';
  if (/unsupported image format/i.test(message)) return 'not a supported image (JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC)';
  if (/pixel limit/i.test(message)) return `image is too large (over ${MAX_INPUT_PIXELS.toLocaleString('en')} pixels)`;
  if (/premature end|truncated|unexpected end|end of (jpeg|file)|read error|corrupt|invalid|bad /i.test(message)) {
    return `damaged or truncated image data (${message.split('\n')[0].trim()})`;
  }
  return message.split('\n')[0].trim() || 'could not be decoded';
}

/** Tries of a decode that fails without a reason: another thread's decode may have taken it. */
const DECODE_TRIES = 4;

/**
 * Runs a decode; one that fails without a reason is run again (up to DECODE_TRIES in all, a moment
 * apart so the other decodes move on), which usually gives the reason.
 */
async function decodeOrExplain<T>(file: string, run: () => Promise<T>): Promise<T> {
  let err: unknown;
  for (let attempt = 1; attempt <= DECODE_TRIES; attempt++) {
    try {
      return await run();
    } catch (failure) {
      err = failure;
      if (!uninformative(failure) || attempt === DECODE_TRIES) break;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
    }
  }
  throw new FileProblem(file, describeSharpError(err));
}

async function readFileBytes(file: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'file not found'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'EISDIR' ? 'is a folder, not an image'
      : (err as Error).message;
    throw new FileProblem(file, reason);
  }
  if (bytes.length === 0) throw new FileProblem(file, 'empty file (0 bytes)');
  return bytes;
}

/** Reads format and upright size from the header, checking the format is one the detector reads. */
export async function readImageInfo(file: string, bytes?: Buffer): Promise<ImageSize & { format: string }> {
  const input = bytes ?? (await readFileBytes(file));
  const meta = await decodeOrExplain(file, () => openSharp(input).metadata());
  if (!meta.format || !SUPPORTED_FORMATS.has(meta.format)) {
    throw new FileProblem(file, `unsupported format ${meta.format ?? 'unknown'} (JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC)`);
  }
  if (!meta.width || !meta.height) throw new FileProblem(file, 'image has no size');
  if (meta.width * meta.height > MAX_INPUT_PIXELS) {
    throw new FileProblem(file, `image is too large (${meta.width}x${meta.height}, over ${MAX_INPUT_PIXELS.toLocaleString('en')} pixels)`);
  }
  const swap = (meta.orientation ?? 1) >= 5;
  return { width: swap ? meta.height : meta.width, height: swap ? meta.width : meta.height, format: meta.format };
}

/**
 * The one decode path of the project. EXIF orientation is applied here, once, so the size, the pixels
 * and every box computed from them are upright. Colour is converted to 8-bit sRGB (CMYK, grey, 16-bit
 * and palette images included) and alpha is flattened onto white. The picture is scaled to fit
 * `dstWidth` x `dstHeight` and padded right and bottom, so boxes map back with one scale factor.
 */
export async function decodeLetterboxed(
  file: string,
  dstWidth: number,
  dstHeight: number,
  padValue = 0,
): Promise<LetterboxedImage> {
  const bytes = await readFileBytes(file);
  const info = await readImageInfo(file, bytes);
  const box = letterboxFor(info.width, info.height, dstWidth, dstHeight);
  return decodeOrExplain(file, async () => {
    const rgb = await openSharp(bytes)
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize(box.scaledWidth, box.scaledHeight, { fit: 'fill', kernel: 'lanczos3' })
      .extend({
        right: dstWidth - box.scaledWidth,
        bottom: dstHeight - box.scaledHeight,
        background: { r: padValue, g: padValue, b: padValue },
      })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer();
    if (rgb.length !== dstWidth * dstHeight * 3) {
      throw new Error(`decoder returned ${rgb.length} bytes, expected ${dstWidth * dstHeight * 3}`);
    }
    return { width: info.width, height: info.height, format: info.format, rgb, box };
  });
}

/** An upright JPEG of any supported image, its longer side at most `maxSide`: what a browser can show. */
async function uprightJpeg(file: string, maxSide: number, quality: number): Promise<Buffer> {
  const bytes = await readFileBytes(file);
  await readImageInfo(file, bytes);
  return decodeOrExplain(file, () =>
    openSharp(bytes)
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality })
      .toBuffer(),
  );
}

/** A thumbnail whose longer side is at most `size` pixels, for lists in the app. */
export function makeThumbnail(file: string, size: number): Promise<Buffer> {
  return uprightJpeg(file, size, 80);
}

/** An upright, browser-displayable copy for the viewer; the picture's pixel size is kept up to `maxSide`. */
export function makeDisplayImage(file: string, maxSide = 4096): Promise<Buffer> {
  return uprightJpeg(file, maxSide, 90);
}

export interface GreyThumbnail extends ImageSize {
  /** `side` x `side` 8-bit grey pixels of the upright picture, squeezed to a square (not letterboxed). */
  grey: Buffer;
  side: number;
  /** The file's size in bytes. */
  fileBytes: number;
}

/** An upright grey square of the picture: what a perceptual hash is computed from (core/dedupe). */
export async function decodeGreyThumbnail(file: string, side: number): Promise<GreyThumbnail> {
  const bytes = await readFileBytes(file);
  const info = await readImageInfo(file, bytes);
  return decodeOrExplain(file, async () => {
    const { data, info: out } = await openSharp(bytes)
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('b-w')
      .resize(side, side, { fit: 'fill' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (out.channels !== 1 || data.length !== side * side) throw new Error(`decoder returned ${out.channels} channels, ${data.length} bytes for a ${side}x${side} grey thumbnail`);
    return { width: info.width, height: info.height, grey: data, side, fileBytes: bytes.length };
  });
}
