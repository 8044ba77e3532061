// Multi-index hashing (Norouzi, Punjani and Fleet, 2012): the 128 bits are dealt into m chunks, each
// with its own table. With D = m r + a (a < m), two hashes at most D bits apart differ in at most r
// bits on one of the first a + 1 chunks, or in at most r - 1 on one of the others (else they would
// differ in D + 1 bits at least). Probing each table within its radius finds every neighbour without
// comparing all pairs; the candidates are then checked on all 128 bits.
import { hashWords, type Hash128 } from './phash.js';

const BITS = 128;
/** Widest chunk: its table has 2^bits + 1 entries. */
const MAX_CHUNK_BITS = 20;

interface Chunk {
  /** Bit positions (0 = the first hex digit's top bit) dealt to this chunk. */
  positions: number[];
  /** Items with key k are ids[offsets[k]] to ids[offsets[k + 1] - 1]. */
  offsets: Int32Array;
  ids: Int32Array;
  /** The items' words in the order of `ids`, so a bucket is read front to back (memory, not the sums, is what costs). */
  words: Int32Array;
}

/**
 * Set bits of a 32-bit integer: phash's popcount32, written here again so the hot loop calls a function
 * of its own module, which every loader lets V8 inline (through a module namespace it may not).
 */
function ones(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 0; i < k; i++) r = (r * (n - i)) / (i + 1);
  return r;
}

/** The radius each of m chunks is probed within, for neighbours up to maxDistance bits away (-1: not probed). */
export function chunkRadii(chunks: number, maxDistance: number): number[] {
  const r = Math.floor(maxDistance / chunks);
  const a = maxDistance - r * chunks;
  return Array.from({ length: chunks }, (_, c) => (c <= a ? r : r - 1));
}

/** The bit positions dealt to chunk c of m: round-robin, so every chunk mixes low and high frequencies (and both hashes). */
function positionsOf(c: number, chunks: number): number[] {
  return Array.from({ length: Math.ceil((BITS - c) / chunks) }, (_, i) => c + i * chunks);
}

/**
 * The number of chunks that costs least for n items at this distance. More chunks: fewer keys to probe
 * in each, but fuller buckets to compare. Real hash bits are not even (the share of ones of a bit runs
 * from 0.2 to 1), so a bucket holds n times the chance two hashes share the chunk's key, from `shares`.
 * A probe into a table too big for the caches costs about what 10 comparisons do, into a middling one 5
 * (measured as CPU time on 100,000 hashes with the bit shares of real ones).
 */
export function chunkCountFor(items: number, maxDistance: number, shares: readonly number[] = new Array<number>(BITS).fill(0.5)): number {
  let best = Math.ceil(BITS / MAX_CHUNK_BITS);
  let bestCost = Infinity;
  for (let m = best; m <= Math.min(BITS, maxDistance + 1); m++) {
    const radii = chunkRadii(m, maxDistance);
    let cost = 0;
    for (let c = 0; c < m; c++) {
      const positions = positionsOf(c, m);
      let probes = 0;
      for (let k = 0; k <= radii[c]; k++) probes += binomial(positions.length, k);
      const sameKey = positions.reduce((p, b) => p * (shares[b] ** 2 + (1 - shares[b]) ** 2), 1);
      cost += probes * (positions.length >= 17 ? 10 : positions.length >= 14 ? 5 : 1) + probes * items * sameKey;
    }
    if (cost < bestCost) {
      bestCost = cost;
      best = m;
    }
  }
  return best;
}

/** The share of ones of each bit over the items. */
function bitShares(words: Int32Array, items: number): number[] {
  const ones = new Array<number>(BITS).fill(0);
  for (let i = 0; i < items; i++) for (let b = 0; b < BITS; b++) ones[b] += (words[i * 4 + (b >>> 5)] >>> (31 - (b & 31))) & 1;
  return ones.map((n) => (items > 0 ? n / items : 0.5));
}

function keyOf(words: Int32Array, at: number, positions: readonly number[]): number {
  let key = 0;
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i];
    key = key * 2 + ((words[at + (p >>> 5)] >>> (31 - (p & 31))) & 1);
  }
  return key;
}

/** Every XOR mask of `bits` bits with at most `radius` bits set: key ^ mask runs over the keys within the radius. */
function flipMasks(bits: number, radius: number): Int32Array {
  const masks: number[] = [0];
  const add = (from: number, current: number, left: number) => {
    for (let b = from; b < bits; b++) {
      masks.push(current | (1 << b));
      if (left > 1) add(b + 1, current | (1 << b), left - 1);
    }
  };
  if (radius > 0) add(0, 0, radius);
  return Int32Array.from(masks);
}

export class HammingIndex {
  private readonly words: Int32Array;
  private readonly chunks: Chunk[];
  /** Per chunk: the masks of the keys to probe (none for a chunk not probed). */
  private readonly masks: Int32Array[];
  /** Last query that reached each item, so a candidate found through two chunks is checked once. */
  private readonly seen: Int32Array;
  private queryCount = 0;

  /** `chunks`: the number of tables (default: the one chunkCountFor estimates costs least). */
  constructor(
    hashes: readonly Hash128[],
    readonly maxDistance: number,
    chunks?: number,
  ) {
    if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance >= BITS) throw new Error(`max distance ${maxDistance} is not 0 to ${BITS - 1}`);
    this.words = new Int32Array(hashes.length * 4);
    hashes.forEach((h, i) => this.words.set(hashWords(h), i * 4));
    this.seen = new Int32Array(hashes.length).fill(-1);
    const m = chunks ?? chunkCountFor(hashes.length, maxDistance, bitShares(this.words, hashes.length));
    const radii = chunkRadii(m, maxDistance);
    this.chunks = Array.from({ length: m }, (_, c) => this.buildChunk(positionsOf(c, m)));
    this.masks = this.chunks.map((chunk, c) => (radii[c] < 0 ? new Int32Array(0) : flipMasks(chunk.positions.length, radii[c])));
  }

  get size(): number {
    return this.seen.length;
  }

  private buildChunk(positions: number[]): Chunk {
    const n = this.size;
    const keys = new Int32Array(n);
    const offsets = new Int32Array(2 ** positions.length + 1);
    for (let i = 0; i < n; i++) {
      keys[i] = keyOf(this.words, i * 4, positions);
      offsets[keys[i] + 1]++;
    }
    for (let k = 1; k < offsets.length; k++) offsets[k] += offsets[k - 1];
    const fill = offsets.slice(0, -1);
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[fill[keys[i]]++] = i;
    const words = new Int32Array(n * 4);
    for (let j = 0; j < n; j++) words.set(this.words.subarray(ids[j] * 4, ids[j] * 4 + 4), j * 4);
    return { positions, offsets, ids, words };
  }

  /** Calls `visit` once for every indexed item at most maxDistance bits from `query`, with the distance. */
  near(query: Hash128, visit: (id: number, distance: number) => void): void {
    const [q0, q1, q2, q3] = hashWords(query);
    const q = Int32Array.of(q0, q1, q2, q3);
    const stamp = this.queryCount++;
    const { seen, maxDistance } = this;
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c];
      const masks = this.masks[c];
      if (masks.length === 0) continue;
      const key = keyOf(q, 0, chunk.positions);
      const { offsets, ids, words } = chunk;
      for (let m = 0; m < masks.length; m++) {
        const probe = key ^ masks[m];
        for (let j = offsets[probe], end = offsets[probe + 1]; j < end; j++) {
          const at = j * 4;
          // Most candidates differ in half their bits: the first two words already rule them out.
          const half = ones(q0 ^ words[at]) + ones(q1 ^ words[at + 1]);
          if (half > maxDistance) continue;
          const d = half + ones(q2 ^ words[at + 2]) + ones(q3 ^ words[at + 3]);
          // Checked for a repeat only when near: most candidates are not, and are never looked up.
          if (d > maxDistance || seen[ids[j]] === stamp) continue;
          seen[ids[j]] = stamp;
          visit(ids[j], d);
        }
      }
    }
  }
}
