import { createHash } from 'node:crypto';
import { UsageError } from '../base/errors.js';

export interface Shard {
  index: number; // 1-based, as written on the command line
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--shard must look like K/N (for example 2/8), got "${text}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw new UsageError(`--shard ${text}: K must be between 1 and N`);
  return { index, count };
}

/**
 * A file's shard depends only on its path relative to the labelled folder, so every machine that runs
 * shard K of N picks the same files, whatever the order in which its file system lists them.
 */
export function inShard(relativePath: string, shard: Shard): boolean {
  const digest = createHash('sha1').update(relativePath, 'utf8').digest();
  return digest.readUInt32BE(0) % shard.count === shard.index - 1;
}
