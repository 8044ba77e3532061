// Perceptual hashes of a picture: 64 bits each that change little when the picture is resized,
// recompressed, brightened or slightly cropped, so near-duplicates lie a few bits apart.

/** 128 bits as 32 lower-case hex digits: a DCT hash (64 bits) then a difference hash (64 bits). */
export type Hash128 = string;

/** Version of the recipe below: hashes stored with another version are computed again, never compared. */
export const PHASH_VERSION = 1;

/**
 * The perceptual hashes of one photo, plain data (JSON, a workspace file, a worker's message).
 * Each Hash128 is a DCT hash (the signs of the 8x8 lowest frequencies of a 32x32 grey thumbnail
 * against their median) followed by a difference hash (whether each pixel of a 9x8 grey thumbnail
 * is brighter than its left neighbour). Near-duplicates differ in few of the 128 bits.
 */
export interface PhotoHash {
  v: typeof PHASH_VERSION;
  /** The whole picture. */
  whole: Hash128;
  /** The picture without INNER_MARGIN of each edge: a copy cropped at its edges matches this better than `whole`. */
  inner: Hash128;
  /** The same two of the picture mirrored left to right, for grouping that counts mirror images. */
  wholeMirror: Hash128;
  innerMirror: Hash128;
}

/** Share of each edge left out of the `inner` hash: midway in the 5 to 10% that photos are commonly cropped by. */
export const INNER_MARGIN = 0.075;

/**
 * Pixels as the decoder left them: 8-bit, 1 (grey), 3 (RGB) or 4 (RGBA) channels interleaved, rows
 * `rowStride` pixels apart (wider than `width` where the picture is the top-left of a padded buffer,
 * as in the detector's letterbox).
 */
export interface PixelView {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  rowStride?: number;
}

/** Side of the grey thumbnail a caller may decode to: the hashes average it down, so any size from 32 up gives the same bits. */
export const HASH_INPUT_SIDE = 128;
const DCT_SIDE = 32;
const LOW_FREQUENCIES = 8;

/** The grey level of every pixel (Rec. 601 luma), as floats. */
function greyOf(view: PixelView): Float32Array {
  const { data, width, height, channels } = view;
  const stride = (view.rowStride ?? width) * channels;
  if (width < 1 || height < 1 || data.length < (height - 1) * stride + width * channels) {
    throw new Error(`pixel buffer of ${data.length} bytes is too small for ${width}x${height}x${channels}`);
  }
  const grey = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    let p = y * stride;
    for (let x = 0; x < width; x++, p += channels) {
      grey[y * width + x] = channels === 1 ? data[p] : 0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2];
    }
  }
  return grey;
}

/** For each output cell along one axis: the input indices it covers (of the span `lo` to `hi`) and the share of each. */
function areaWeights(lo: number, hi: number, inSize: number, outSize: number): { start: number; weights: number[] }[] {
  const scale = (hi - lo) / outSize;
  return Array.from({ length: outSize }, (_, o) => {
    const from = lo + o * scale;
    const to = lo + (o + 1) * scale;
    const start = Math.floor(from);
    const weights: number[] = [];
    for (let i = start; i < Math.min(inSize, Math.ceil(to)); i++) weights.push((Math.min(to, i + 1) - Math.max(from, i)) / scale);
    return { start, weights };
  });
}

/** A part of a picture, as shares of its width and height (0 to 1). */
export interface Region {
  left: number;
  top: number;
  right: number;
  bottom: number;
}
const WHOLE: Region = { left: 0, top: 0, right: 1, bottom: 1 };

/**
 * Box-filter resize of a region: each output pixel is the mean of the input area it covers,
 * fractions of pixels included.
 */
export function areaResize(grey: Float32Array, width: number, height: number, outWidth: number, outHeight: number, region = WHOLE): Float32Array {
  const cols = areaWeights(region.left * width, region.right * width, width, outWidth);
  const rows = areaWeights(region.top * height, region.bottom * height, height, outHeight);
  const across = new Float32Array(outWidth * height);
  for (let y = 0; y < height; y++) {
    for (let o = 0; o < outWidth; o++) {
      const { start, weights } = cols[o];
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += weights[k] * grey[y * width + start + k];
      across[y * outWidth + o] = sum;
    }
  }
  const out = new Float32Array(outWidth * outHeight);
  for (let o = 0; o < outHeight; o++) {
    const { start, weights } = rows[o];
    for (let x = 0; x < outWidth; x++) {
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += weights[k] * across[(start + k) * outWidth + x];
      out[o * outWidth + x] = sum;
    }
  }
  return out;
}

function mirrored(grid: Float32Array, width: number, height: number): Float32Array {
  const out = new Float32Array(grid.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = grid[y * width + width - 1 - x];
  return out;
}

/** cos((2x + 1) u pi / 2N) for the low frequencies u, as an unnormalised DCT-II (as scipy's, which pHash follows). */
const COSINES = (() => {
  const table = new Float64Array(LOW_FREQUENCIES * DCT_SIDE);
  for (let u = 0; u < LOW_FREQUENCIES; u++) {
    for (let x = 0; x < DCT_SIDE; x++) table[u * DCT_SIDE + x] = 2 * Math.cos(((2 * x + 1) * u * Math.PI) / (2 * DCT_SIDE));
  }
  return table;
})();

function bitsToHex(bits: readonly boolean[]): string {
  let hex = '';
  for (let nibble = 0; nibble < bits.length / 4; nibble++) {
    let v = 0;
    for (let b = 0; b < 4; b++) v = (v << 1) | (bits[nibble * 4 + b] ? 1 : 0);
    hex += v.toString(16);
  }
  return hex;
}

/** The 8x8 lowest frequencies of the 32x32 grid, each above or below their median. */
function dctBits(grid: Float32Array): boolean[] {
  const n = DCT_SIDE;
  const k = LOW_FREQUENCIES;
  const rowPass = new Float64Array(k * n); // [v][y]: the horizontal frequencies of each row
  for (let y = 0; y < n; y++) {
    for (let v = 0; v < k; v++) {
      let sum = 0;
      for (let x = 0; x < n; x++) sum += COSINES[v * n + x] * grid[y * n + x];
      rowPass[v * n + y] = sum;
    }
  }
  const coefficients = new Float64Array(k * k);
  for (let u = 0; u < k; u++) {
    for (let v = 0; v < k; v++) {
      let sum = 0;
      for (let y = 0; y < n; y++) sum += COSINES[u * n + y] * rowPass[v * n + y];
      coefficients[u * k + v] = sum;
    }
  }
  const sorted = Float64Array.from(coefficients).sort();
  const median = (sorted[31] + sorted[32]) / 2;
  return Array.from(coefficients, (c) => c > median);
}

/** Each pixel of an 8-row, 9-column grid against the one on its left. */
function differenceBits(grid: Float32Array): boolean[] {
  const bits: boolean[] = [];
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) bits.push(grid[y * 9 + x + 1] > grid[y * 9 + x]);
  return bits;
}

function hashRegion(grey: Float32Array, width: number, height: number, region: Region, mirror: boolean): Hash128 {
  let dctGrid = areaResize(grey, width, height, DCT_SIDE, DCT_SIDE, region);
  let diffGrid = areaResize(grey, width, height, 9, 8, region);
  if (mirror) {
    dctGrid = mirrored(dctGrid, DCT_SIDE, DCT_SIDE);
    diffGrid = mirrored(diffGrid, 9, 8);
  }
  return bitsToHex([...dctBits(dctGrid), ...differenceBits(diffGrid)]);
}

/**
 * The perceptual hashes of a decoded, upright picture. Any decode will do (the detector's letterbox,
 * a grey thumbnail of HASH_INPUT_SIDE from sharp): the picture is averaged down to 32x32 and 9x8 here,
 * so the bits depend on the decoder's own resizing by a bit or two at most.
 */
export function hashPixels(view: PixelView): PhotoHash {
  const grey = greyOf(view);
  const inner: Region = { left: INNER_MARGIN, top: INNER_MARGIN, right: 1 - INNER_MARGIN, bottom: 1 - INNER_MARGIN };
  const of = (region: Region, mirror: boolean) => hashRegion(grey, view.width, view.height, region, mirror);
  return { v: PHASH_VERSION, whole: of(WHOLE, false), inner: of(inner, false), wholeMirror: of(WHOLE, true), innerMirror: of(inner, true) };
}

const HEX128 = /^[0-9a-f]{32}$/;

/** Whether a stored value is a hash of this recipe (anything else is computed again). */
export function isPhotoHash(value: unknown): value is PhotoHash {
  const h = value as Partial<PhotoHash> | null;
  return (
    typeof h === 'object' && h !== null && h.v === PHASH_VERSION &&
    [h.whole, h.inner, h.wholeMirror, h.innerMirror].every((x) => typeof x === 'string' && HEX128.test(x))
  );
}

/** Set bits of a 32-bit integer (signed or not: the bits count). Int32 arithmetic throughout, which V8 keeps unboxed. */
export function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** A Hash128 as four 32-bit words, signed (as an Int32Array holds them). */
export function hashWords(hash: Hash128): [number, number, number, number] {
  return [0, 8, 16, 24].map((i) => parseInt(hash.slice(i, i + 8), 16) | 0) as [number, number, number, number];
}

/** The number of bits (of 128) in which two hashes differ. */
export function hammingDistance(a: Hash128, b: Hash128): number {
  const x = hashWords(a);
  const y = hashWords(b);
  return popcount32(x[0] ^ y[0]) + popcount32(x[1] ^ y[1]) + popcount32(x[2] ^ y[2]) + popcount32(x[3] ^ y[3]);
}
