// YOLO labels: classes.txt (one name a line, line number = class index), images.txt (the photos
// exported) and per photo "class cx cy w h", normalised.
import type { Category } from './categories.js';
import { exportedBoxes, exportName, withExtension, type BoxFilter, type ExportFile, type ExportFiles, type LabelledImage } from './labelled-images.js';

/** The files of a YOLO export that are not one photo's labels. */
export const YOLO_LIST_FILES: readonly string[] = ['classes.txt', 'images.txt'];
const yoloLabelFile = (imageName: string) => withExtension(exportName(imageName), '.txt');

export function buildYoloExport(images: readonly LabelledImage[], categories: readonly Category[], filter: BoxFilter): ExportFiles {
  const index = new Map(categories.map((c, i) => [c.id, i]));
  const exported = exportedBoxes(images, filter);
  const clash = exported.find(({ image }) => YOLO_LIST_FILES.includes(yoloLabelFile(image.name)));
  if (clash) throw new Error(`the labels of ${clash.image.name} would overwrite the export's own ${yoloLabelFile(clash.image.name)}: rename the photo, or export COCO`);
  const files: ExportFile[] = [
    { name: 'classes.txt', content: categories.map((c) => c.name).join('\n') + '\n' },
    // The photos these labels are for. To YOLO a photo without a label file has nothing in it, so a
    // verified-only export must be trained on this list, not on the whole folder.
    { name: 'images.txt', content: exported.map(({ image }) => image.name).join('\n') + '\n' },
  ];
  let annotations = 0;
  for (const { image, boxes } of exported) {
    const lines = boxes.map(({ box, bbox: [x, y, w, h] }) => {
      const f = (v: number) => v.toFixed(6);
      return `${index.get(box.categoryId)} ${f((x + w / 2) / image.width)} ${f((y + h / 2) / image.height)} ${f(w / image.width)} ${f(h / image.height)}`;
    });
    annotations += lines.length;
    files.push({ name: yoloLabelFile(image.name), content: lines.length ? lines.join('\n') + '\n' : '' });
  }
  return { files, annotations };
}
