// Multi-index hashing (Norouzi, Punjani and Fleet, 2012): the 128 bits are dealt into m chunks, each
// with its own table. Two hashes at most D bits apart agree within floor(D / m) bits on one chunk at
// least (pigeonhole), so probing each table within that radius finds every neighbour without
// comparing all pairs; the candidates are then checked on all 128 bits.
import { hashWords, popcount32, type Hash128 } from './phash.js';

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

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 0; i < k; i++) r = (r * (n - i)) / (i + 1);
  return r;
}

/** Keys within `radius` bits of a chunk's key, summed over the m chunks (of 128 / m bits, rounded up). */
function probesPerQuery(chunks: number, radius: number): number {
  const bits = Math.ceil(BITS / chunks);
  let probes = 0;
  for (let k = 0; k <= radius; k++) probes += binomial(bits, k);
  return chunks * probes;
}

/**
 * The number of chunks that costs least for n items at this distance. More chunks: fewer keys to probe
 * in each, but fuller buckets (n / 2^bits candidates a probe, for hashes spread evenly) to compare.
 * A probe into a table too big for the cache costs about what 2.5 comparisons do (measured, 100,000 hashes).
 */
export function chunkCountFor(items: number, maxDistance: number): number {
  let best = Math.ceil(BITS / MAX_CHUNK_BITS);
  let bestCost = Infinity;
  for (let m = best; m <= Math.min(BITS, maxDistance + 1); m++) {
    const bits = Math.floor(BITS / m);
    const probes = probesPerQuery(m, Math.floor(maxDistance / m));
    const cost = probes * (bits >= 15 ? 2.5 : 1) + probes * (items / 2 ** bits);
    if (cost < bestCost) {
      bestCost = cost;
      best = m;
    }
  }
  return best;
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
  /** Per chunk width: the masks of the keys to probe. */
  private readonly masks = new Map<number, Int32Array>();
  /** Last query that reached each item, so a candidate found through two chunks is checked once. */
  private readonly seen: Int32Array;
  private queryCount = 0;

  constructor(
    hashes: readonly Hash128[],
    readonly maxDistance: number,
  ) {
    if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance >= BITS) throw new Error(`max distance ${maxDistance} is not 0 to ${BITS - 1}`);
    this.words = new Int32Array(hashes.length * 4);
    hashes.forEach((h, i) => this.words.set(hashWords(h), i * 4));
    this.seen = new Int32Array(hashes.length).fill(-1);
    const m = chunkCountFor(hashes.length, maxDistance);
    const radius = Math.floor(maxDistance / m);
    // Dealt round-robin, so every chunk mixes low and high frequencies (and the DCT and difference halves).
    this.chunks = Array.from({ length: m }, (_, c) => this.buildChunk(Array.from({ length: Math.ceil((BITS - c) / m) }, (_, i) => c + i * m)));
    for (const chunk of this.chunks) if (!this.masks.has(chunk.positions.length)) this.masks.set(chunk.positions.length, flipMasks(chunk.positions.length, radius));
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
    for (const chunk of this.chunks) {
      const key = keyOf(q, 0, chunk.positions);
      const masks = this.masks.get(chunk.positions.length)!;
      const { offsets, ids, words } = chunk;
      for (let m = 0; m < masks.length; m++) {
        const probe = key ^ masks[m];
        for (let j = offsets[probe], end = offsets[probe + 1]; j < end; j++) {
          const at = j * 4;
          // Most candidates differ in half their bits: the first two words already rule them out.
          const half = popcount32(q0 ^ words[at]) + popcount32(q1 ^ words[at + 1]);
          if (half > maxDistance) continue;
          const d = half + popcount32(q2 ^ words[at + 2]) + popcount32(q3 ^ words[at + 3]);
          // Checked for a repeat only when near: most candidates are not, and are never looked up.
          if (d > maxDistance || seen[ids[j]] === stamp) continue;
          seen[ids[j]] = stamp;
          visit(ids[j], d);
        }
      }
    }
  }
}
