// Boxes made wrong on purpose, for measuring lint (tests/core/lint-ccp.test.ts, tests/cli/dataset-cli.test.ts).
import { seededRandom } from '../../src-main/core/base/random';

export interface RawCoco {
  images: { id: number; width: number; height: number }[];
  annotations: { id: number; image_id: number; category_id: number; bbox: number[] }[];
  categories: { id: number }[];
}

const seeded = seededRandom;

export type Fault = 'swapped' | 'moved' | 'scaled';

/**
 * Makes 5% of the boxes wrong: a third get another category, a third are moved by half their width
 * and half their height (away from the edge they would cross), a third are scaled by 3 or 0.3 about
 * their centre; boxes stay inside the photo (clipped), as a labelling tool keeps them.
 */
export function spoil(doc: RawCoco, seed: number): Map<number, Fault> {
  const random = seeded(seed);
  const images = new Map(doc.images.map((i) => [i.id, i]));
  const order = doc.annotations.map((_, k) => k);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const spoilt = new Map<number, Fault>();
  const categories = doc.categories.map((c) => c.id);
  order.slice(0, Math.round(doc.annotations.length * 0.05)).forEach((k, n) => {
    const a = doc.annotations[k];
    const img = images.get(a.image_id)!;
    let [x, y, w, h] = a.bbox;
    const fault: Fault = (['swapped', 'moved', 'scaled'] as const)[n % 3];
    if (fault === 'swapped') {
      const others = categories.filter((c) => c !== a.category_id);
      a.category_id = others[Math.floor(random() * others.length)];
    } else if (fault === 'moved') {
      let sx = random() < 0.5 ? -1 : 1;
      let sy = random() < 0.5 ? -1 : 1;
      if (x + sx * w / 2 < 0 || x + w + sx * w / 2 > img.width) sx = -sx;
      if (y + sy * h / 2 < 0 || y + h + sy * h / 2 > img.height) sy = -sy;
      x += (sx * w) / 2;
      y += (sy * h) / 2;
    } else {
      const f = random() < 0.5 ? 3 : 0.3;
      x += (w - w * f) / 2;
      y += (h - h * f) / 2;
      w *= f;
      h *= f;
    }
    const x1 = Math.max(0, x);
    const y1 = Math.max(0, y);
    a.bbox = [x1, y1, Math.min(img.width, x + w) - x1, Math.min(img.height, y + h) - y1];
    spoilt.set(a.id, fault);
  });
  return spoilt;
}
