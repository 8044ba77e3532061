// The perceptual hash the detector worker computes from the picture it decoded for the model (the
// letterbox) must agree with the one `duplicates` computes from the file (hashImageFile): a workspace
// holds both kinds (photos labelled in it, photos of earlier projects hashed later), and groups them
// together. Checked on drawn pictures always, and on CCP photos with altered copies where ../shared is.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_DISTANCE, groupNearDuplicates, type HashedPhoto } from '../../src-main/core/dedupe/groups';
import { hashImageFile, hashLetterboxed } from '../../src-main/core/dedupe/hash-file';
import { hammingDistance, type PhotoHash } from '../../src-main/core/dedupe/phash';
import { decodeLetterboxed } from '../../src-main/core/images/decode';
import { resolveModel } from '../../src-main/core/models/registry';
import { drawScene, hasShared, sharedDataset, sharedSkipReason, tempDir } from '../helpers';
import { seededRandom } from '../../src-main/core/base/random';

/** The input sizes of the built-in models: each letterboxes differently. */
const INPUTS = ['fashion-ccp', 'coco-nanodet'].map((id) => resolveModel(id).manifest.input);

async function letterboxHash(file: string, input: { width: number; height: number; padValue?: number }): Promise<PhotoHash> {
  return hashLetterboxed(await decodeLetterboxed(file, input.width, input.height, input.padValue ?? 0));
}

/** Bits apart, for each of the two hashes a grouping compares. */
function apart(a: PhotoHash, b: PhotoHash): { whole: number; inner: number } {
  return { whole: hammingDistance(a.whole, b.whole), inner: hammingDistance(a.inner, b.inner) };
}

const seeded = seededRandom;

describe('the hash of the detector letterbox', () => {
  it('lies a few bits from the hash of the file, for every model input and upright pictures stored sideways', async () => {
    const dir = tempDir('fd-lb-hash-');
    const files: string[] = [];
    for (let i = 1; i <= 6; i++) {
      const file = path.join(dir, `scene${i}.jpg`);
      const picture = await drawScene(300 + 40 * i, 450 + 25 * i, i);
      // Some stored sideways (EXIF 6): both decoders hash the upright picture.
      await (i % 2 ? picture.jpeg() : picture.jpeg().withMetadata({ orientation: 6 })).toFile(file);
      files.push(file);
    }
    const wide = path.join(dir, 'panorama.png');
    await (await drawScene(1600, 120, 9)).png().toFile(wide);
    files.push(wide);
    for (const file of files) {
      const fromFile = (await hashImageFile(file)).hash;
      for (const input of INPUTS) {
        const d = apart(await letterboxHash(file, input), fromFile);
        // Flat drawn shapes leave many bits near a tie (measured up to 11 and 14); real photos lie
        // closer (the CCP test below). Either way well inside the grouping's distance.
        expect(d.whole, `${path.basename(file)} at ${input.width}x${input.height}`).toBeLessThanOrEqual(DEFAULT_MAX_DISTANCE - 6);
        expect(d.inner, `${path.basename(file)} at ${input.width}x${input.height}`).toBeLessThanOrEqual(DEFAULT_MAX_DISTANCE - 3);
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe.skipIf(!hasShared)('letterbox and file hashes of CCP photos together', () => {
  if (!hasShared) console.log(`SKIP letterbox and file hashes of CCP photos: ${sharedSkipReason}`);

  it(`group altered copies with their original and nothing else, whichever way each photo was hashed (max distance ${DEFAULT_MAX_DISTANCE})`, async () => {
    const source = path.join(sharedDataset, 'unlabeled');
    // 1029 and 1341 are two frames of one pose (tests/core/dedupe-ccp.test.ts): left out of "distinct".
    const distinct = fs.readdirSync(source).filter((f) => f.endsWith('.jpg') && f !== '1341.jpg').sort().slice(0, 120);
    const originals = distinct.slice(0, 30);
    const dir = tempDir('fd-lb-ccp-');
    const random = seeded(7);
    const family = new Map<string, string>();
    for (const name of distinct) {
      fs.copyFileSync(path.join(source, name), path.join(dir, name));
      family.set(name, name);
    }
    for (const name of originals) {
      const bytes = fs.readFileSync(path.join(source, name));
      const { width = 0, height = 0 } = await sharp(bytes).metadata();
      const edge = (size: number) => Math.round(size * (0.05 + 0.05 * random()));
      const [left, right, top, bottom] = [edge(width), edge(width), edge(height), edge(height)];
      const copies = {
        half: sharp(bytes).resize(Math.round(width / 2), Math.round(height / 2)).jpeg({ quality: 90 }),
        recompressed: sharp(bytes).jpeg({ quality: 50 + Math.floor(random() * 11) }),
        cropped: sharp(bytes).extract({ left, top, width: width - left - right, height: height - top - bottom }).jpeg({ quality: 90 }),
        brightened: sharp(bytes).linear(1.1, 0).jpeg({ quality: 90 }),
      };
      for (const [kind, copy] of Object.entries(copies)) {
        await copy.toFile(path.join(dir, `${kind}-${name}`));
        family.set(`${kind}-${name}`, name);
      }
    }
    const photos: HashedPhoto[] = [];
    const worst = { whole: 0, inner: 0 };
    for (const name of family.keys()) {
      const file = path.join(dir, name);
      const hashed = await hashImageFile(file);
      const letterbox = await letterboxHash(file, INPUTS[0]);
      const d = apart(letterbox, hashed.hash);
      worst.whole = Math.max(worst.whole, d.whole);
      worst.inner = Math.max(worst.inner, d.inner);
      // Half the photos as a workspace labels them, half as one hashes them later.
      photos.push({ name, width: hashed.width, height: hashed.height, fileBytes: hashed.fileBytes, hash: random() < 0.5 ? letterbox : hashed.hash });
    }
    const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);
    const names = [...family.keys()];
    const truth = new Set<string>();
    for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) if (family.get(names[i]) === family.get(names[j])) truth.add(pairKey(names[i], names[j]));
    const predicted = new Set<string>();
    for (const g of groupNearDuplicates(photos)) for (let i = 0; i < g.length; i++) for (let j = i + 1; j < g.length; j++) predicted.add(pairKey(g[i], g[j]));
    const right = [...predicted].filter((p) => truth.has(p)).length;
    const precision = predicted.size === 0 ? 1 : right / predicted.size;
    const recall = right / truth.size;
    console.log(`letterbox and file hashes mixed: ${photos.length} photos; the two hashes of one photo at most ${worst.whole} bits apart (${worst.inner} without the edges); pair precision ${precision.toFixed(3)} (${right}/${predicted.size}), recall ${recall.toFixed(3)} (${right}/${truth.size})`);
    expect(worst.whole).toBeLessThanOrEqual(10);
    expect(precision).toBeGreaterThanOrEqual(0.98);
    expect(recall).toBeGreaterThanOrEqual(0.95);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
