#!/usr/bin/env node
// Near-duplicate timing: hash N photos (the CCP photos over and over, as hard links, so each is a file
// of its own to decode) and group them; then group 100,000 hashes (real CCP hashes with bits flipped).
// Prints a Markdown table for the README. Needs `npm run build` and ../shared/datasets/ccp-fashion.
// Usage: node tests/bench/dedupe-bench.mjs [--photos 10000] [--hashes 100000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({ options: { photos: { type: 'string', default: '10000' }, hashes: { type: 'string', default: '100000' } } });
const dist = (p) => import(path.join(root, 'dist/main/core/dedupe', p));
const { hashFiles } = await dist('hash-file.js');
const { groupNearDuplicates, DEFAULT_MAX_DISTANCE } = await dist('groups.js');

const sources = ['train/images', 'unlabeled'].map((s) => path.resolve(root, '../shared/datasets/ccp-fashion', s));
if (!sources.every((s) => fs.existsSync(s))) {
  console.error('dedupe-bench: ../shared/datasets/ccp-fashion is not there; the benchmark needs the CCP photos beside the repository');
  process.exit(1);
}
const originals = sources.flatMap((s) => fs.readdirSync(s).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(s, f)));
const count = Number(values.photos);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-dedupe-bench-'));
const entries = [];
for (let i = 0; i < count; i++) {
  const name = `part${String(Math.floor(i / 1000)).padStart(2, '0')}/photo${String(i).padStart(5, '0')}.jpg`;
  fs.mkdirSync(path.join(work, path.dirname(name)), { recursive: true });
  fs.linkSync(originals[i % originals.length], path.join(work, name));
  entries.push({ name, file: path.join(work, name) });
}
const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, Node ${process.versions.node}, load average ${os.loadavg()[0].toFixed(1)} at the start`;
console.error(`dedupe-bench: ${count} photos (${originals.length} CCP photos repeated), ${machine}`);

let t0 = performance.now();
const hashed = await hashFiles(entries);
const hashSeconds = (performance.now() - t0) / 1000;
const cpuSeconds = (from) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
};
t0 = performance.now();
let cpu0 = process.cpuUsage();
const groups = groupNearDuplicates(hashed.photos);
const groupSeconds = (performance.now() - t0) / 1000;
const groupCpu = cpuSeconds(cpu0);

// Grouping alone at scale: distinct pictures drawn bit by bit with the share of ones each bit has
// in the real hashes (real bits are not even: the buckets must fill as real ones do), and one in 20
// with a copy 0 to 12 bits from it.
const many = Number(values.hashes);
let seed = 1;
const next = () => ((seed = (seed * 16807) % 2147483647), seed);
const base = hashed.photos.slice(0, originals.length);
const bitOf = (hex, b) => (parseInt(hex[b >> 2], 16) >> (3 - (b & 3))) & 1;
const shareOfOnes = (key) => Array.from({ length: 128 }, (_, b) => base.reduce((n, p) => n + bitOf(p.hash[key], b), 0) / base.length);
const shares = { whole: shareOfOnes('whole'), inner: shareOfOnes('inner') };
const toHex = (bits) => Array.from({ length: 32 }, (_, k) => ((bits[4 * k] << 3) | (bits[4 * k + 1] << 2) | (bits[4 * k + 2] << 1) | bits[4 * k + 3]).toString(16)).join('');
const draw = (key) => toHex(shares[key].map((p) => (next() / 2147483647 < p ? 1 : 0)));
const flip = (hex, bits) => {
  const w = [0, 8, 16, 24].map((i) => parseInt(hex.slice(i, i + 8), 16));
  for (let k = 0; k < bits; k++) {
    const p = next() % 128;
    w[p >> 5] ^= 1 << (31 - (p & 31));
  }
  return w.map((v) => (v >>> 0).toString(16).padStart(8, '0')).join('');
};
const synthetic = [];
for (let i = 0; synthetic.length < many; i++) {
  const whole = draw('whole');
  const picture = { name: `h${i}`, width: 1, height: 1, hash: { v: 1, whole, inner: draw('inner'), wholeMirror: whole, innerMirror: whole } };
  synthetic.push(picture);
  if (i % 20 === 0 && synthetic.length < many) {
    const near = next() % 13;
    synthetic.push({ ...picture, name: `h${i}-copy`, hash: { ...picture.hash, whole: flip(whole, near), inner: flip(picture.hash.inner, near) } });
  }
}
t0 = performance.now();
cpu0 = process.cpuUsage();
const manyGroups = groupNearDuplicates(synthetic);
const manySeconds = (performance.now() - t0) / 1000;
const manyCpu = cpuSeconds(cpu0);
const rss = process.memoryUsage().rss;
fs.rmSync(work, { recursive: true, force: true });

console.log(`| Step | Photos | Time | Result |`);
console.log(`|---|---:|---:|---:|`);
console.log(`| hash (decode, EXIF, 128x128 grey, DCT + difference hashes) | ${count.toLocaleString('en')} | ${hashSeconds.toFixed(1)} s | ${(count / hashSeconds).toFixed(0)} photos/s |`);
console.log(`| group (max distance ${DEFAULT_MAX_DISTANCE}) | ${count.toLocaleString('en')} | ${groupSeconds.toFixed(2)} s (CPU ${groupCpu.toFixed(2)} s) | ${groups.length} groups |`);
console.log(`| group hashes only | ${many.toLocaleString('en')} | ${manySeconds.toFixed(1)} s (CPU ${manyCpu.toFixed(1)} s) | ${manyGroups.length} groups |`);
console.log(`\n${machine}; peak RSS ${(rss / 2 ** 20).toFixed(0)} MB; ${hashed.problems.length} photos unreadable.`);
