// Photos for the tests of clean data sets (near-duplicates, unusual boxes): distinct photos (CCP
// training photos where ../shared is, else pictures of random shapes, which no two share), altered
// copies of some, and a COCO file of boxes laid out as people wear them (a top above pants, two shoes
// at the feet, a bag at the side), with one footwear box far off where asked.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { copySharedPhotos, hasShared } from '../helpers';
import { seededRandom } from '../../src-main/core/base/random';

/** mulberry32 (core/base/random.ts): the same on every run. */
export const seeded = seededRandom;

/** A picture of random shapes and greys: unlike any other seed's, as a perceptual hash sees it. */
export function shapesPicture(width: number, height: number, seed: number): sharp.Sharp {
  const random = seeded(seed * 7919);
  const shapes = Array.from({ length: 24 }, () => {
    const [x, y, w, h] = [random() * width, random() * height, (0.1 + random() * 0.5) * width, (0.1 + random() * 0.4) * height];
    const grey = Math.floor(random() * 256);
    return `<rect x="${x - w / 2}" y="${y - h / 2}" width="${w}" height="${h}" fill="rgb(${grey},${(grey * 3) % 256},${255 - grey})"/>`;
  }).join('');
  return sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#808080"/>${shapes}</svg>`));
}

/** `n` distinct photos in `dir`; returns their file names. */
export async function distinctPhotos(dir: string, n: number): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const shared = copySharedPhotos(dir, n);
  if (shared.length === n) return shared.map((f) => path.basename(f));
  if (!hasShared) console.log('NOTE: ../shared is absent: pictures of random shapes stand in for CCP photos');
  const names: string[] = [];
  for (let i = 1; i <= n; i++) {
    const name = `shapes-${String(i).padStart(2, '0')}.jpg`;
    await shapesPicture(400 + 8 * i, 600, i).jpeg({ quality: 90 }).toFile(path.join(dir, name));
    names.push(name);
  }
  return names;
}

export type Alteration = 'half' | 'recompressed' | 'brightened';

/** An altered copy of a photo: half its size, recompressed at quality 55, or 10% brighter. */
export async function alteredCopy(from: string, to: string, how: Alteration): Promise<void> {
  const bytes = fs.readFileSync(from);
  const { width = 0, height = 0 } = await sharp(bytes).metadata();
  const picture = how === 'half' ? sharp(bytes).resize(Math.round(width / 2), Math.round(height / 2)) : how === 'brightened' ? sharp(bytes).linear(1.1, 0) : sharp(bytes);
  await picture.jpeg({ quality: how === 'recompressed' ? 55 : 90 }).toFile(to);
}

export const CATEGORY_NAMES = ['top', 'pants', 'footwear', 'bag'];

/**
 * A COCO file (no scores: a person's boxes, verified) for the photos named, read from `dir`: each
 * wears a top, pants and two shoes with a bag at the side, a little different in each photo. The
 * first footwear box of `oddFootwear` sits at the top of its photo instead. Returns the file's path.
 */
export async function writeOutfitBoxes(dir: string, names: readonly string[], file: string, oddFootwear?: string): Promise<string> {
  const random = seeded(99);
  const images = [];
  const annotations = [];
  const jitter = (v: number) => v + (random() - 0.5) * 0.04;
  for (const [i, name] of names.entries()) {
    const { width = 0, height = 0 } = await sharp(path.join(dir, name)).rotate().metadata();
    const id = i + 1;
    images.push({ id, file_name: name, width, height });
    const box = (category: number, x1: number, y1: number, x2: number, y2: number) => {
      const [a, b, c, d] = [jitter(x1), jitter(y1), jitter(x2), jitter(y2)];
      annotations.push({ id: annotations.length + 1, image_id: id, category_id: category, bbox: [a * width, b * height, (c - a) * width, (d - b) * height], area: (c - a) * width * (d - b) * height, iscrowd: 0 });
    };
    box(1, 0.3, 0.22, 0.7, 0.52);
    box(2, 0.32, 0.52, 0.68, 0.9);
    if (name === oddFootwear) box(3, 0.3, 0.03, 0.5, 0.09);
    else box(3, 0.29, 0.9, 0.49, 0.96);
    box(3, 0.51, 0.9, 0.71, 0.96);
    box(4, 0.72, 0.45, 0.86, 0.57);
  }
  const categories = CATEGORY_NAMES.map((n, i) => ({ id: i + 1, name: n, supercategory: '' }));
  fs.writeFileSync(file, JSON.stringify({ images, annotations, categories }));
  return file;
}
