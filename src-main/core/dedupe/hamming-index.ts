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
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 0; i < k; i++) r = (r * (n - i)) / (i + 1);
  return r;
}

/** Keys within `radius` bits of a `bits`-bit key, summed over chunks of a table of m. */
function probesPerQuery(chunks: number, radius: number): number {
  const bits = Math.ceil(BITS / chunks);
  let probes = 0;
  for (let k = 0; k <= radius; k++) probes += binomial(bits, k);
  return chunks * probes;
}

/**
 * The number of chunks that costs least for n items at this distance: more chunks make fewer keys to
 * probe each, but fuller buckets (n / 2^bits candidates a probe, for hashes spread evenly).
 */
export function chunkCountFor(items: number, maxDistance: number): number {
  let best = Math.ceil(BITS / MAX_CHUNK_BITS);
  let bestCost = Infinity;
  for (let m = Math.ceil(BITS / MAX_CHUNK_BITS); m <= Math.min(BITS, maxDistance + 1); m++) {
    const probes = probesPerQuery(m, Math.floor(maxDistance / m));
    const cost = probes * (1 + items / 2 ** Math.floor(BITS / m));
    if (cost < bestCost) {
      bestCost = cost;
      best = m;
    }
  }
  return best;
}

function keyOf(words: Uint32Array, at: number, positions: readonly number[]): number {
  let key = 0;
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i];
    key = key * 2 + ((words[at + (p >>> 5)] >>> (31 - (p & 31))) & 1);
  }
  return key;
}

/** All keys within `radius` bits of `key` (of `bits` bits), each once. */
function forEachNearKey(key: number, bits: number, radius: number, visit: (k: number) => void): void {
  visit(key);
  const flip = (from: number, current: number, left: number) => {
    for (let b = from; b < bits; b++) {
      const next = current ^ 2 ** b;
      visit(next);
      if (left > 1) flip(b + 1, next, left - 1);
    }
  };
  if (radius > 0) flip(0, key, radius);
}

export class HammingIndex {
  private readonly words: Uint32Array;
  private readonly chunks: Chunk[];
  private readonly radius: number;
  /** Last query that reached each item, so a candidate found through two chunks is checked once. */
  private readonly seen: Int32Array;
  private queryCount = 0;

  constructor(
    hashes: readonly Hash128[],
    readonly maxDistance: number,
  ) {
    if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance >= BITS) throw new Error(`max distance ${maxDistance} is not 0 to ${BITS - 1}`);
    this.words = new Uint32Array(hashes.length * 4);
    hashes.forEach((h, i) => this.words.set(hashWords(h), i * 4));
    this.seen = new Int32Array(hashes.length).fill(-1);
    const m = chunkCountFor(hashes.length, maxDistance);
    this.radius = Math.floor(maxDistance / m);
    // Dealt round-robin, so every chunk mixes low and high frequencies (and the DCT and difference halves).
    this.chunks = Array.from({ length: m }, (_, c) => this.buildChunk(Array.from({ length: Math.ceil((BITS - c) / m) }, (_, i) => c + i * m)));
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
    return { positions, offsets, ids };
  }

  /** Calls `visit` once for every indexed item at most maxDistance bits from `query`, with the distance. */
  near(query: Hash128, visit: (id: number, distance: number) => void): void {
    const q = Uint32Array.from(hashWords(query));
    const stamp = this.queryCount++;
    for (const chunk of this.chunks) {
      forEachNearKey(keyOf(q, 0, chunk.positions), chunk.positions.length, this.radius, (key) => {
        for (let j = chunk.offsets[key]; j < chunk.offsets[key + 1]; j++) {
          const id = chunk.ids[j];
          if (this.seen[id] === stamp) continue;
          this.seen[id] = stamp;
          const at = id * 4;
          const d =
            popcount32((q[0] ^ this.words[at]) >>> 0) + popcount32((q[1] ^ this.words[at + 1]) >>> 0) +
            popcount32((q[2] ^ this.words[at + 2]) >>> 0) + popcount32((q[3] ^ this.words[at + 3]) >>> 0);
          if (d <= this.maxDistance) visit(id, d);
        }
      });
    }
  }
}
