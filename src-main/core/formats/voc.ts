// Pascal VOC: one XML file per photo, corners in 1-based pixels as VOC tools expect.
import path from 'node:path';
import type { Category } from './categories.js';
import { exportedBoxes, exportName, withExtension, type BoxFilter, type ExportFiles, type LabelledImage } from './labelled-images.js';

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function buildVocExport(images: readonly LabelledImage[], categories: readonly Category[], filter: BoxFilter): ExportFiles {
  const names = new Map(categories.map((c) => [c.id, c.name]));
  let annotations = 0;
  const files = exportedBoxes(images, filter).map(({ image, boxes }) => {
    const name = exportName(image.name);
    const objects = boxes.map(({ box, bbox: [x, y, w, h] }) => {
      const xmin = Math.max(1, Math.round(x) + 1);
      const ymin = Math.max(1, Math.round(y) + 1);
      const xmax = Math.min(image.width, Math.round(x + w));
      const ymax = Math.min(image.height, Math.round(y + h));
      return `  <object>
    <name>${xml(names.get(box.categoryId) ?? String(box.categoryId))}</name>
    <pose>Unspecified</pose>
    <truncated>0</truncated>
    <difficult>0</difficult>
    <confidence>${box.score.toFixed(4)}</confidence>
    <verified>${box.verified ? 1 : 0}</verified>
    <bndbox><xmin>${xmin}</xmin><ymin>${ymin}</ymin><xmax>${Math.max(xmin, xmax)}</xmax><ymax>${Math.max(ymin, ymax)}</ymax></bndbox>
  </object>`;
    });
    annotations += objects.length;
    const folder = path.posix.dirname(name);
    const content = `<annotation>
  <folder>${xml(folder === '.' ? '' : folder)}</folder>
  <filename>${xml(path.posix.basename(name))}</filename>
  <source><database>Fashion Detect</database></source>
  <size><width>${image.width}</width><height>${image.height}</height><depth>3</depth></size>
  <segmented>0</segmented>
${objects.join('\n')}${objects.length ? '\n' : ''}</annotation>
`;
    return { name: withExtension(name, '.xml'), content };
  });
  return { files, annotations };
}
