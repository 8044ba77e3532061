import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { FileProblem } from '../../src-main/core/base/errors';
import { decodeLetterboxed, readImageInfo } from '../../src-main/core/images/decode';
import { drawScene, storeWithOrientation, tempDir, writeBadFiles } from '../helpers';

describe('decoding with EXIF orientation', () => {
  const dir = tempDir();
  const uw = 90;
  const uh = 60;
  // Upright: red in the top-left quadrant, green top-right, blue bottom-left, white bottom-right.
  const upright = Buffer.alloc(uw * uh * 3);
  for (let y = 0; y < uh; y++) {
    for (let x = 0; x < uw; x++) {
      const colour = y < uh / 2 ? (x < uw / 2 ? [255, 0, 0] : [0, 255, 0]) : x < uw / 2 ? [0, 0, 255] : [255, 255, 255];
      upright.set(colour, (y * uw + x) * 3);
    }
  }

  for (const o of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`orientation ${o}: upright size and pixels`, async () => {
      const file = path.join(dir, `o${o}.png`);
      fs.writeFileSync(file, await storeWithOrientation(upright, uw, uh, o));
      expect((await sharp(file).metadata()).orientation).toBe(o);
      const info = await readImageInfo(file);
      expect([info.width, info.height]).toEqual([uw, uh]);
      // A 90x60 picture in a 180x180 input: scale 2, 180x120 picture, padding below.
      const img = await decodeLetterboxed(file, 180, 180, 114);
      expect([img.width, img.height, img.box.scaledWidth, img.box.scaledHeight]).toEqual([uw, uh, 180, 120]);
      const px = (x: number, y: number) => [...img.rgb.subarray((y * 180 + x) * 3, (y * 180 + x) * 3 + 3)];
      expect(px(20, 20)).toEqual([255, 0, 0]);
      expect(px(160, 20)).toEqual([0, 255, 0]);
      expect(px(20, 100)).toEqual([0, 0, 255]);
      expect(px(160, 100)).toEqual([255, 255, 255]);
      expect(px(90, 150)).toEqual([114, 114, 114]); // padding
    });
  }
});

describe('colour formats and containers', () => {
  const dir = tempDir();

  const cases: [string, (s: sharp.Sharp) => sharp.Sharp][] = [
    ['cmyk.jpg', (s) => s.toColourspace('cmyk').jpeg()],
    ['grey.png', (s) => s.greyscale().png()],
    ['alpha.png', (s) => s.ensureAlpha(0.5).png()],
    ['deep.png', (s) => s.toColourspace('rgb16').png()],
    ['palette.png', (s) => s.png({ palette: true, colours: 16 })],
    ['photo.webp', (s) => s.webp()],
    ['photo.tiff', (s) => s.tiff()],
    ['photo.avif', (s) => s.avif({ effort: 0 })],
    ['photo.gif', (s) => s.gif()],
  ];
  for (const [name, encode] of cases) {
    it(`reads ${name} as 8-bit sRGB`, async () => {
      const file = path.join(dir, name);
      await encode(await drawScene(120, 180)).toFile(file);
      const img = await decodeLetterboxed(file, 64, 64);
      expect([img.width, img.height]).toEqual([120, 180]);
      expect(img.rgb.length).toBe(64 * 64 * 3);
      // The top-left is background (light), the torso centre is a saturated colour: not all grey.
      const at = (x: number, y: number) => [...img.rgb.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)];
      expect(Math.min(...at(1, 1))).toBeGreaterThan(120);
      if (name !== 'grey.png') {
        const torso = at(21, 22);
        expect(Math.max(...torso) - Math.min(...torso)).toBeGreaterThan(40);
      }
    });
  }

  it('takes the first frame of an animated GIF and WebP', async () => {
    const frames = await Promise.all(
      ['#ff0000', '#0000ff', '#00ff00'].map((c) => sharp({ create: { width: 40, height: 30, channels: 3, background: c } }).png().toBuffer()),
    );
    for (const ext of ['gif', 'webp']) {
      const file = path.join(dir, `animated.${ext}`);
      await sharp(frames, { join: { animated: true } }).toFormat(ext as 'gif').toFile(file);
      expect((await sharp(file).metadata()).pages).toBe(3);
      const img = await decodeLetterboxed(file, 40, 30);
      expect([img.width, img.height]).toEqual([40, 30]);
      const [r, g, b] = img.rgb.subarray(0, 3);
      expect(r).toBeGreaterThan(200);
      expect(g).toBeLessThan(60);
      expect(b).toBeLessThan(60);
    }
  });

  it('refuses each kind of bad file with a reason that names the file', async () => {
    const bad = await writeBadFiles(path.join(dir, 'bad'));
    for (const { name, reasonPattern } of bad.filter((b) => !b.name.endsWith('.bmp'))) {
      const file = path.join(dir, 'bad', name);
      const error = await decodeLetterboxed(file, 64, 64).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, name).toBeInstanceOf(FileProblem);
      expect((error as FileProblem).file).toBe(file);
      expect((error as FileProblem).reason, name).toMatch(reasonPattern);
    }
    const missing = await decodeLetterboxed(path.join(dir, 'nope.jpg'), 64, 64).catch((e: FileProblem) => e);
    expect((missing as FileProblem).reason).toBe('file not found');
  });

  it('refuses a format the detector does not read (SVG) even with an image-like name', async () => {
    const file = path.join(dir, 'vector.png');
    fs.writeFileSync(file, '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    await expect(readImageInfo(file)).rejects.toThrow(/unsupported format svg/);
  });
});
