import type { Category } from '../core/formats/categories.js';

/**
 * One colour per category, far apart in hue and readable with white text on top, in category-id
 * order. Ids past the list (another model's categories) get a hue from the golden angle.
 */
const PALETTE = [
  '#e6194b', // top: red
  '#3cb44b', // outerwear: green
  '#4363d8', // pants: blue
  '#f58231', // shorts: orange
  '#911eb4', // skirt: purple
  '#d6336c', // dress: magenta
  '#0f9d9a', // footwear: teal
  '#9a6324', // bag: brown
  '#b8860b', // headwear: dark gold
  '#6c7a91', // eyewear: slate
  '#808000', // belt: olive
  '#e03131', // neckwear: scarlet
  '#7048e8', // legwear: violet
];

export function categoryColour(category: Pick<Category, 'id'>, index: number): string {
  if (index < PALETTE.length) return PALETTE[index];
  const hue = Math.round((category.id * 137.508) % 360);
  return `hsl(${hue}, 65%, 42%)`;
}
