import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Detector } from '../../src-main/core/detect/detector';
import { resolveModel } from '../../src-main/core/models/registry';
import { hasShared, sharedDataset, sharedSkipReason, storeWithOrientation, tempDir } from '../helpers';

process.env.FASHION_DETECT_BACKEND = 'wasm';

/** COCO NanoDet with its `person` class reported, to check decoding against the CCP boxes of a whole outfit. */
function nanodetWithPerson() {
  const model = resolveModel('coco-nanodet');
  model.manifest.labelToCategory = { person: 'person', handbag: 'bag' };
  model.manifest.categories = [{ id: 1, name: 'person', supercategory: 'person' }, { id: 2, name: 'bag', supercategory: 'bag' }];
  return model;
}

describe.skipIf(!hasShared)('NanoDet on real photos (../shared)', () => {
  let detector: Detector;
  beforeAll(async () => {
    detector = await Detector.load(nanodetWithPerson());
  });
  afterAll(() => detector?.dispose());

  it('finds the person around the labelled outfit', async () => {
    const annotations = JSON.parse(fs.readFileSync(path.join(sharedDataset, 'train/annotations.json'), 'utf8'));
    // Photos with one person only in view, checked by eye.
    const ious: number[] = [];
    for (const image of annotations.images.slice(0, 4)) {
      const result = await detector.detectFile(path.join(sharedDataset, 'train/images', image.file_name), 0.3);
      expect([result.width, result.height]).toEqual([image.width, image.height]);
      const person = result.detections.find((d) => d.category === 'person');
      expect(person, image.file_name).toBeDefined();
      const boxes = annotations.annotations.filter((a: { image_id: number }) => a.image_id === image.id).map((a: { bbox: number[] }) => a.bbox);
      const outfit = [Math.min(...boxes.map((b: number[]) => b[0])), Math.min(...boxes.map((b: number[]) => b[1])), Math.max(...boxes.map((b: number[]) => b[0] + b[2])), Math.max(...boxes.map((b: number[]) => b[1] + b[3]))];
      const [x, y, w, h] = person!.bbox;
      const iw = Math.min(outfit[2], x + w) - Math.max(outfit[0], x);
      const ih = Math.min(outfit[3], y + h) - Math.max(outfit[1], y);
      const inter = Math.max(0, iw) * Math.max(0, ih);
      ious.push(inter / ((outfit[2] - outfit[0]) * (outfit[3] - outfit[1]) + w * h - inter));
    }
    // The person box includes hair and face, which the outfit boxes do not: high overlap, not 1.
    for (const v of ious) expect(v).toBeGreaterThan(0.75);
  });

  it('gives the same boxes, in upright pixels, for all 8 EXIF orientations of a photo', async () => {
    const dir = tempDir();
    const source = path.join(sharedDataset, 'train/images/0001.jpg');
    const { data, info } = await sharp(source).raw().toBuffer({ resolveWithObject: true });
    const results = [];
    for (const o of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const file = path.join(dir, `o${o}.png`);
      fs.writeFileSync(file, await storeWithOrientation(data, info.width, info.height, o));
      results.push(await detector.detectFile(file, 0.2));
    }
    expect(results[0].detections.length).toBeGreaterThan(0);
    for (const r of results) {
      expect([r.width, r.height]).toEqual([info.width, info.height]);
      expect(r.detections.map((d) => d.category)).toEqual(results[0].detections.map((d) => d.category));
      r.detections.forEach((d, i) => {
        // Resampling a rotated picture rounds a little differently: a pixel of slack, no more.
        d.bbox.forEach((v, k) => expect(Math.abs(v - results[0].detections[i].bbox[k])).toBeLessThan(1));
        expect(Math.abs(d.score - results[0].detections[i].score)).toBeLessThan(0.01);
      });
    }
  });
});

describe.skipIf(!hasShared)('the built-in model on a real photo (../shared)', () => {
  it('places a box the same at every minimum score: weighted NMS averages in boxes from a fixed floor', async () => {
    const model = resolveModel('fashion-ccp');
    expect(model.manifest.output.decoder === 'nanodet' && model.manifest.output.mergeIou).toBe(0.75);
    const plain = resolveModel('fashion-ccp');
    if (plain.manifest.output.decoder === 'nanodet') delete plain.manifest.output.mergeIou;
    const [weighted, unweighted] = await Promise.all([Detector.load(model), Detector.load(plain)]);
    try {
      const photo = path.join(sharedDataset, 'train/images/0001.jpg');
      const low = (await weighted.detectFile(photo, 0.05)).detections;
      const high = (await weighted.detectFile(photo, 0.5)).detections;
      expect(high.length).toBeGreaterThan(2);
      expect(low.filter((d) => d.score >= 0.5)).toEqual(high);
      // The same scores and categories as plain NMS; the sides of some boxes moved by the averaging.
      const asPlain = (await unweighted.detectFile(photo, 0.5)).detections;
      expect(asPlain.map((d) => [d.category, d.score])).toEqual(high.map((d) => [d.category, d.score]));
      const moved = high.filter((d, i) => d.bbox.some((v, k) => Math.abs(v - asPlain[i].bbox[k]) > 0.5));
      expect(moved.length).toBeGreaterThan(0);
    } finally {
      weighted.dispose();
      unweighted.dispose();
    }
  });
});

describe('model registry', () => {
  it('names a damaged weight file instead of loading it', () => {
    const dir = tempDir();
    const source = resolveModel('coco-nanodet').dir;
    for (const f of fs.readdirSync(source)) fs.copyFileSync(path.join(source, f), path.join(dir, f));
    const bin = path.join(dir, 'nanodet.bin');
    const bytes = fs.readFileSync(bin);
    bytes[1000] ^= 0xff;
    fs.writeFileSync(bin, bytes);
    expect(() => resolveModel(dir)).toThrow(/nanodet\.bin has sha256 .* the manifest says/);
    fs.rmSync(bin);
    expect(() => resolveModel(dir)).toThrow(/nanodet\.bin is missing/);
  });

  it('lists the installed models when asked for an unknown one', () => {
    expect(() => resolveModel('no-such-model')).toThrow(/unknown model "no-such-model"; installed models: .*coco-nanodet/);
  });
});

if (!hasShared) console.log(`SKIP NanoDet on real photos: ${sharedSkipReason}`);
