import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeLetterboxed } from '../../src-main/core/images/decode';
import { HammingIndex, chunkCountFor } from '../../src-main/core/dedupe/hamming-index';
import { hashFiles, hashImageFile } from '../../src-main/core/dedupe/hash-file';
import { groupNearDuplicates, keepFirst, nearDuplicatePairs, type HashedPhoto } from '../../src-main/core/dedupe/groups';
import { hammingDistance, hashPixels, isPhotoHash, PHASH_VERSION } from '../../src-main/core/dedupe/phash';
import { cocoSubset, splitCoco, splitNames, withoutNearDuplicates } from '../../src-main/core/dedupe/split';
import type { CocoDocument } from '../../src-main/core/formats/coco';
import { drawScene, storeWithOrientation, tempDir, writeBadFiles } from '../helpers';

/** A seeded stream of 32-bit words (xorshift), so the random hashes are the same on every run. */
function words(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

const hex = (w: number[]) => w.map((v) => (v >>> 0).toString(16).padStart(8, '0')).join('');

/** A hash `bits` bits away from `base`, at positions from the generator. */
function flipped(base: string, bits: number, next: () => number): string {
  const w = [0, 8, 16, 24].map((i) => parseInt(base.slice(i, i + 8), 16));
  const done = new Set<number>();
  while (done.size < bits) done.add(next() % 128);
  for (const p of done) w[p >> 5] ^= 1 << (31 - (p & 31));
  return hex(w);
}

const photo = (name: string, hash: string, extra: Partial<HashedPhoto> = {}): HashedPhoto => ({
  name,
  width: 100,
  height: 100,
  hash: { v: PHASH_VERSION, whole: hash, inner: hash, wholeMirror: hash, innerMirror: hash },
  ...extra,
});

describe('perceptual hashes', () => {
  it('are the same bits, within two or three, from the hashing decode and from the detector letterbox', async () => {
    const file = path.join(tempDir(), 'scene.jpg');
    await (await drawScene(360, 540, 4)).jpeg({ quality: 90 }).toFile(file);
    const own = await hashImageFile(file);
    expect([own.width, own.height]).toEqual([360, 540]);
    expect(isPhotoHash(own.hash)).toBe(true);
    // The detector decodes to its input with padding right and bottom: the picture is the top-left part.
    const boxed = await decodeLetterboxed(file, 352, 512, 114);
    const fromDetector = hashPixels({ data: boxed.rgb, width: boxed.box.scaledWidth, height: boxed.box.scaledHeight, channels: 3, rowStride: 352 });
    expect(hammingDistance(own.hash.whole, fromDetector.whole)).toBeLessThanOrEqual(4);
    expect(hammingDistance(own.hash.inner, fromDetector.inner)).toBeLessThanOrEqual(4);
  });

  it('hash the upright picture: a photo stored turned, with its EXIF orientation, hashes as the upright one', async () => {
    const dir = tempDir();
    const { data, info } = await (await drawScene(300, 450, 6)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    fs.writeFileSync(path.join(dir, 'upright.png'), await storeWithOrientation(data, info.width, info.height, 1));
    const turned = await hashImageFile(path.join(dir, 'upright.png'));
    for (const o of [3, 6, 8]) {
      fs.writeFileSync(path.join(dir, `o${o}.png`), await storeWithOrientation(data, info.width, info.height, o));
      const h = await hashImageFile(path.join(dir, `o${o}.png`));
      expect([h.width, h.height]).toEqual([300, 450]);
      expect(hammingDistance(h.hash.whole, turned.hash.whole), `orientation ${o}`).toBeLessThanOrEqual(2);
    }
  });

  it('count a mirror image as a near-duplicate only when asked', async () => {
    const dir = tempDir();
    const scene = await (await drawScene(300, 450, 7)).png().toBuffer();
    fs.writeFileSync(path.join(dir, 'a.png'), scene);
    await sharp(scene).flop().png().toFile(path.join(dir, 'b.png'));
    const { photos, problems } = await hashFiles(['a.png', 'b.png'].map((name) => ({ name, file: path.join(dir, name) })));
    expect(problems).toEqual([]);
    expect(hammingDistance(photos[0].hash.whole, photos[1].hash.whole)).toBeGreaterThan(20);
    expect(hammingDistance(photos[0].hash.wholeMirror, photos[1].hash.whole)).toBeLessThanOrEqual(2);
    expect(groupNearDuplicates(photos)).toEqual([]);
    // Which one is kept first (the larger file) is keepFirst's business, tested on its own.
    expect(groupNearDuplicates(photos, { mirror: true }).map((g) => [...g].sort())).toEqual([['a.png', 'b.png']]);
  });

  it('list the photos that cannot be read, with the reason, and hash the rest', async () => {
    const dir = tempDir();
    const bad = await writeBadFiles(dir);
    await (await drawScene(200, 300, 2)).jpeg().toFile(path.join(dir, 'good.jpg'));
    // drawing.bmp is listed by the folder walk (its extension), not by a decode.
    const unreadable = bad.filter((b) => b.name !== 'drawing.bmp');
    const names = ['good.jpg', ...unreadable.map((b) => b.name)];
    const result = await hashFiles(names.map((name) => ({ name, file: path.join(dir, name) })));
    expect(result.photos.map((p) => p.name)).toEqual(['good.jpg']);
    for (const b of unreadable) expect(result.problems.find((p) => p.name === b.name)?.reason, b.name).toMatch(b.reasonPattern);
  });
});

describe('grouping', () => {
  it('keeps the photo with the most pixels, then the larger file, then the first name', () => {
    const h = '0'.repeat(32);
    const photos = [
      photo('c.jpg', h, { width: 50, height: 50 }),
      photo('b.jpg', h, { fileBytes: 900 }),
      photo('a.jpg', h, { fileBytes: 100 }),
      photo('big.jpg', h, { width: 200, height: 200, fileBytes: 1 }),
      photo('a2.jpg', h, { fileBytes: 900 }),
    ];
    expect([...photos].sort(keepFirst).map((p) => p.name)).toEqual(['big.jpg', 'a2.jpg', 'b.jpg', 'a.jpg', 'c.jpg']);
    expect(groupNearDuplicates(photos)).toEqual([['big.jpg', 'a2.jpg', 'b.jpg', 'a.jpg', 'c.jpg']]);
  });

  it('finds every pair within the distance, as comparing all pairs would, and no other', () => {
    const next = words(7);
    const hashes: string[] = [];
    for (let i = 0; i < 400; i++) {
      const base = hex([next(), next(), next(), next()]);
      hashes.push(base);
      for (let k = 0; k < 3; k++) hashes.push(flipped(base, next() % 40, next));
    }
    for (const d of [0, 3, 8, 20, 31]) {
      const index = new HammingIndex(hashes, d);
      const found: string[] = [];
      hashes.forEach((q, i) => index.near(q, (j) => j > i && found.push(`${i}-${j}`)));
      const expected: string[] = [];
      for (let i = 0; i < hashes.length; i++) for (let j = i + 1; j < hashes.length; j++) if (hammingDistance(hashes[i], hashes[j]) <= d) expected.push(`${i}-${j}`);
      expect(found.sort(), `distance ${d}`).toEqual(expected.sort());
    }
  });

  it('groups 100,000 photos in seconds once hashed', () => {
    const next = words(11);
    const photos: HashedPhoto[] = [];
    // 25,000 pictures, each with three copies 0 to 24 bits away: groups of four, and some copies too far.
    for (let i = 0; i < 25_000; i++) {
      const base = hex([next(), next(), next(), next()]);
      photos.push(photo(`p${i}-0`, base));
      for (let k = 1; k < 4; k++) photos.push(photo(`p${i}-${k}`, flipped(base, next() % 25, next)));
    }
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const groups = groupNearDuplicates(photos);
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const seconds = (performance.now() - t0) / 1000;
    console.log(`grouped ${photos.length} hashes in ${seconds.toFixed(1)} s (${cpuSeconds.toFixed(1)} s of CPU; ${chunkCountFor(photos.length, 20)} chunks); ${groups.length} groups`);
    // How long it takes is the benchmark's to say (tests/bench/dedupe-bench.mjs), not a test's.
    expect(groups.length).toBeGreaterThan(20_000);
    for (const g of groups.slice(0, 200)) expect(new Set(g.map((n) => n.split('-')[0])).size).toBe(1);
    expect(nearDuplicatePairs(photos.slice(0, 400)).every((p) => p.distance <= 20)).toBe(true);
  });
});

describe('split', () => {
  const names = Array.from({ length: 100 }, (_, i) => `photo${String(i).padStart(3, '0')}.jpg`);
  const groups = [names.slice(0, 5), names.slice(10, 13), names.slice(50, 52), [names[90], names[95]]];

  it('puts every near-duplicate group on one side, the same way every time', () => {
    for (const seed of [0, 1, 2, 3, 4, 5]) {
      const split = splitNames(names, groups, 0.15, seed);
      expect(split.val.length).toBe(15);
      expect(split.train.length + split.val.length).toBe(100);
      for (const g of groups) {
        const inVal = g.filter((n) => split.val.includes(n)).length;
        expect([0, g.length]).toContain(inVal);
      }
      expect(splitNames([...names].reverse(), [...groups].reverse(), 0.15, seed)).toEqual(split);
    }
    expect(splitNames(names, groups, 0.15, 1).val).not.toEqual(splitNames(names, groups, 0.15, 2).val);
  });

  it('splits a COCO document and leaves near-duplicates out of one', () => {
    const doc: CocoDocument = {
      info: {},
      licenses: [],
      images: names.slice(0, 20).map((file_name, i) => ({ id: i + 1, file_name, width: 100, height: 100 })),
      annotations: names.slice(0, 20).map((_, i) => ({ id: 100 + i, image_id: i + 1, category_id: 1, bbox: [1, 1, 10, 10] as [number, number, number, number], area: 100, iscrowd: 0 as const })),
      categories: [{ id: 1, name: 'top', supercategory: 'clothing' }],
    };
    const { train, val } = splitCoco(doc, [names.slice(0, 5)], 0.25, 3);
    expect(train.images.length + val.images.length).toBe(20);
    expect(val.annotations.every((a) => val.images.some((i) => i.id === a.image_id))).toBe(true);
    expect(val.info).toMatchObject({ split: { part: 'val', seed: 3 } });
    const firstFive = names.slice(0, 5);
    expect([0, 5]).toContain(val.images.filter((i) => firstFive.includes(i.file_name)).length);
    const kept = withoutNearDuplicates(doc, [[names[3], names[0], names[1]]]);
    expect(kept.images.map((i) => i.file_name)).not.toContain(names[0]);
    expect(kept.images.map((i) => i.file_name)).toContain(names[3]);
    expect(kept.images.length).toBe(18);
    expect(kept.annotations.length).toBe(18);
    expect(cocoSubset(doc, []).annotations).toEqual([]);
  });
});
