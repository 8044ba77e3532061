import sharp from 'sharp';
import { drawScene } from '../helpers';

/**
 * drawScene's people differ only in colour, which perceptual hashes (grey structure) do not see: seeded
 * blocks on the background make each photo distinct to them, as real photos are.
 */
export async function distinctScene(file: string, seed: number): Promise<void> {
  let s = seed * 7919;
  const next = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const blocks = Array.from({ length: 8 }, () => {
    const [x, y, w, h, g] = [next() * 300, next() * 480, 30 + next() * 120, 30 + next() * 160, Math.round(next() * 255)];
    return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="rgb(${g},${g},${g})"/>`;
  });
  const overlay = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="360" height="540">${blocks.join('')}</svg>`);
  const person = await (await drawScene(360, 540, seed)).png().toBuffer();
  await sharp(overlay).composite([{ input: person, blend: 'multiply' }]).jpeg({ quality: 90 }).toFile(file);
}
