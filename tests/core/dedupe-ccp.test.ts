// Measured on real photos: altered copies of CCP photos among distinct CCP photos must group with
// their original (recall) and nothing else may (precision), at the default max distance.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_DISTANCE, groupNearDuplicates } from '../../src-main/core/dedupe/groups';
import { hashFiles } from '../../src-main/core/dedupe/hash-file';
import { hasShared, sharedDataset, sharedSkipReason, tempDir } from '../helpers';
import { seededRandom } from '../../src-main/core/base/random';

/**
 * Near-identical shots that CCP itself holds (two frames of one pose, the same photo twice), found by
 * `duplicates` on train/images and unlabeled/ together and each checked by eye. They are not
 * "distinct photos", so the measurement leaves them out; the last test checks they are found.
 */
const CCP_NEAR_DUPLICATES = [
  ['train/images/0025.jpg', 'unlabeled/1707.jpg'],
  ['train/images/0183.jpg', 'train/images/0730.jpg'],
  ['train/images/0197.jpg', 'train/images/0671.jpg'],
  ['train/images/0220.jpg', 'unlabeled/1691.jpg'],
  ['train/images/0343.jpg', 'unlabeled/1083.jpg'],
  ['train/images/0403.jpg', 'unlabeled/1074.jpg'],
  ['train/images/0538.jpg', 'unlabeled/1715.jpg'],
  ['train/images/0594.jpg', 'train/images/0722.jpg'],
  ['train/images/0643.jpg', 'unlabeled/1913.jpg'],
  ['train/images/0692.jpg', 'train/images/0732.jpg'],
  ['train/images/0719.jpg', 'unlabeled/1611.jpg'],
  ['train/images/0906.jpg', 'unlabeled/1694.jpg'],
  ['train/images/0907.jpg', 'train/images/0990.jpg'],
  ['train/images/0999.jpg', 'unlabeled/1890.jpg'],
  ['unlabeled/1029.jpg', 'unlabeled/1341.jpg'],
  ['unlabeled/1671.jpg', 'unlabeled/1790.jpg'],
];

const seeded = seededRandom;

const ALTERATIONS = ['half', 'recompressed', 'cropped', 'brightened'] as const;

/** The four altered copies the issue names, of one photo. */
async function alteredCopies(file: string, random: () => number): Promise<Record<(typeof ALTERATIONS)[number], Buffer>> {
  const bytes = fs.readFileSync(file);
  const { width = 0, height = 0 } = await sharp(bytes).metadata();
  const edge = (size: number) => Math.round(size * (0.05 + 0.05 * random())); // 5 to 10% of the side, at each edge
  const [left, right, top, bottom] = [edge(width), edge(width), edge(height), edge(height)];
  return {
    half: await sharp(bytes).resize(Math.round(width / 2), Math.round(height / 2)).jpeg({ quality: 90 }).toBuffer(),
    recompressed: await sharp(bytes).jpeg({ quality: 50 + Math.floor(random() * 11) }).toBuffer(),
    cropped: await sharp(bytes).extract({ left, top, width: width - left - right, height: height - top - bottom }).jpeg({ quality: 90 }).toBuffer(),
    brightened: await sharp(bytes).linear(1.1, 0).jpeg({ quality: 90 }).toBuffer(),
  };
}

describe.skipIf(!hasShared)('near-duplicates of CCP photos', () => {
  if (!hasShared) console.log(`SKIP near-duplicates of CCP photos: ${sharedSkipReason}`);

  it(`groups altered copies with their original and with nothing else (max distance ${DEFAULT_MAX_DISTANCE})`, async () => {
    const known = new Set(CCP_NEAR_DUPLICATES.flat().filter((n) => n.startsWith('unlabeled/')).map((n) => n.slice('unlabeled/'.length)));
    const source = path.join(sharedDataset, 'unlabeled');
    const distinct = fs.readdirSync(source).filter((f) => f.endsWith('.jpg') && !known.has(f)).sort().slice(0, 300);
    const originals = distinct.slice(0, 80);
    const dir = tempDir('fd-dedupe-ccp-');
    const family = new Map<string, string>(); // photo name -> its original
    const random = seeded(12);
    for (const name of distinct) {
      fs.copyFileSync(path.join(source, name), path.join(dir, name));
      family.set(name, name);
    }
    for (const name of originals) {
      const copies = await alteredCopies(path.join(source, name), random);
      for (const kind of ALTERATIONS) {
        const copy = `${kind}-${name}`;
        fs.writeFileSync(path.join(dir, copy), copies[kind]);
        family.set(copy, name);
      }
    }
    const t0 = performance.now();
    const { photos, problems } = await hashFiles([...family.keys()].map((name) => ({ name, file: path.join(dir, name) })));
    const hashSeconds = (performance.now() - t0) / 1000;
    expect(problems).toEqual([]);
    const groups = groupNearDuplicates(photos);

    const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);
    const truth = new Set<string>();
    const names = [...family.keys()];
    for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) if (family.get(names[i]) === family.get(names[j])) truth.add(pairKey(names[i], names[j]));
    const predicted = new Set<string>();
    for (const g of groups) for (let i = 0; i < g.length; i++) for (let j = i + 1; j < g.length; j++) predicted.add(pairKey(g[i], g[j]));
    const right = [...predicted].filter((p) => truth.has(p)).length;
    const precision = predicted.size === 0 ? 1 : right / predicted.size;
    const recall = right / truth.size;
    const perKind = ALTERATIONS.map((kind) => {
      const found = originals.filter((o) => predicted.has(pairKey(o, `${kind}-${o}`))).length;
      return `${kind} ${found}/${originals.length}`;
    });
    console.log(
      `near-duplicates: ${photos.length} photos (${distinct.length} distinct CCP photos, ${originals.length} of them with 4 altered copies), ` +
        `hashed in ${hashSeconds.toFixed(1)} s; pair precision ${precision.toFixed(3)} (${right}/${predicted.size}), recall ${recall.toFixed(3)} (${right}/${truth.size}); ` +
        `copy found with its original: ${perKind.join(', ')}`,
    );
    expect(precision).toBeGreaterThanOrEqual(0.98);
    expect(recall).toBeGreaterThanOrEqual(0.95);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds the near-identical shots CCP holds, and no other pair, among its 1,905 photos', async () => {
    const entries = ['train/images', 'unlabeled'].flatMap((sub) =>
      fs.readdirSync(path.join(sharedDataset, sub)).filter((f) => f.endsWith('.jpg')).map((f) => ({ name: `${sub}/${f}`, file: path.join(sharedDataset, sub, f) })),
    );
    const { photos } = await hashFiles(entries);
    const groups = groupNearDuplicates(photos).map((g) => [...g].sort());
    expect(groups.sort((a, b) => (a[0] < b[0] ? -1 : 1))).toEqual(CCP_NEAR_DUPLICATES);
  });
});
