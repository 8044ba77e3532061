import fs from 'node:fs';
import path from 'node:path';
import { cocoDocumentSchema, fillAnnotationDefaults, type CocoDocument } from '../formats/coco.js';
import { UsageError } from '../base/errors.js';
import { seededRandom, shuffled } from '../base/random.js';

/** One training picture with its boxes, in source pixels [x, y, w, h] and class indices. */
export interface TrainImage {
  id: number;
  file: string;
  fileName: string;
  width: number;
  height: number;
  boxes: { bbox: [number, number, number, number]; classIndex: number; categoryId: number }[];
  /** A tagged photo (tags.ts): how much each class counts as a negative in it; boxes are the model's. */
  negativeWeights?: Float32Array;
}

/** The categories a photo holds: those of its boxes, and for a tagged photo those it is tagged with, boxed or not. */
export function classesIn(photo: Pick<TrainImage, 'boxes' | 'negativeWeights'>): Set<number> {
  const classes = new Set(photo.boxes.map((b) => b.classIndex));
  photo.negativeWeights?.forEach((weight, c) => weight === 0 && classes.add(c));
  return classes;
}

export interface TrainSet {
  categories: { id: number; name: string; supercategory: string }[];
  images: TrainImage[];
  /** Images named by the COCO file that could not be found, with the reason. */
  skipped: { fileName: string; reason: string }[];
  annotationCount: number;
}

/** Photos of a category it takes before "never two boxes in one photo" counts as the data's convention. */
const SINGLE_INSTANCE_MIN_PHOTOS = 10;

/**
 * The categories no photo has two boxes of, among those in 10 photos at least: the data labels them
 * once per photo (CCP: one box around all of a category's pixels), so a model trained on it has its
 * second box of one scored down (classwiseNms). Ids, in the set's category order.
 */
export function singleInstanceCategories(set: TrainSet): number[] {
  return set.categories
    .map((c) => c.id)
    .filter((id) => {
      let photos = 0;
      for (const image of set.images) {
        const n = image.boxes.reduce((k, b) => k + (b.categoryId === id ? 1 : 0), 0);
        if (n > 1) return false;
        if (n === 1) photos++;
      }
      return photos >= SINGLE_INSTANCE_MIN_PHOTOS;
    });
}

/** Reads any COCO detection file (the app's exports included) and finds its pictures under `imagesDir`. */
export function readTrainSet(annotationsFile: string, imagesDir: string): TrainSet {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(annotationsFile, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${annotationsFile}: ${code === 'ENOENT' ? 'file not found' : `not a JSON file (${(err as Error).message})`}`);
  }
  fillAnnotationDefaults(raw);
  const parsed = cocoDocumentSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new UsageError(`${annotationsFile}: not a COCO detection file: ${first.path.join('.') || 'document'}: ${first.message}`);
  }
  const doc: CocoDocument = parsed.data;
  if (!fs.existsSync(imagesDir) || !fs.statSync(imagesDir).isDirectory()) throw new UsageError(`${imagesDir}: no such folder of images`);
  if (doc.categories.length === 0) throw new UsageError(`${annotationsFile}: lists no categories to train`);
  const categories = [...doc.categories].sort((a, b) => a.id - b.id).map((c) => ({ id: c.id, name: c.name, supercategory: c.supercategory }));
  const names = new Set<string>();
  for (const c of categories) {
    if (names.has(c.name)) throw new UsageError(`${annotationsFile}: category name "${c.name}" is used twice`);
    names.add(c.name);
  }
  const classOf = new Map(categories.map((c, i) => [c.id, i]));
  const byImage = new Map<number, TrainImage['boxes']>();
  let annotationCount = 0;
  for (const a of doc.annotations) {
    const classIndex = classOf.get(a.category_id);
    if (classIndex === undefined) throw new UsageError(`${annotationsFile}: annotation ${a.id} has category ${a.category_id}, which the file does not list`);
    // Crowd regions and degenerate boxes teach nothing about single items.
    if (a.iscrowd === 1 || a.bbox[2] < 1 || a.bbox[3] < 1) continue;
    const list = byImage.get(a.image_id) ?? [];
    list.push({ bbox: [a.bbox[0], a.bbox[1], a.bbox[2], a.bbox[3]], classIndex, categoryId: a.category_id });
    byImage.set(a.image_id, list);
    annotationCount++;
  }
  const images: TrainImage[] = [];
  const skipped: TrainSet['skipped'] = [];
  for (const img of [...doc.images].sort((a, b) => a.id - b.id)) {
    const file = path.resolve(imagesDir, img.file_name);
    if (!fs.existsSync(file)) {
      skipped.push({ fileName: img.file_name, reason: `not found under ${imagesDir}` });
      continue;
    }
    images.push({ id: img.id, file, fileName: img.file_name, width: img.width, height: img.height, boxes: byImage.get(img.id) ?? [] });
  }
  if (images.filter((i) => i.boxes.length > 0).length < 2) {
    throw new UsageError(`${annotationsFile}: fewer than two pictures with boxes were found under ${imagesDir}${skipped.length ? ` (${skipped.length} missing, e.g. ${skipped[0].fileName})` : ''}`);
  }
  return { categories, images, skipped, annotationCount };
}

/** A fixed, seeded hold-out: the same photos are validation photos on every run and every resume. */
export function splitTrainVal(images: readonly TrainImage[], valFraction: number, seed: number): { train: TrainImage[]; val: TrainImage[] } {
  const order = shuffled(images, seededRandom(seed ^ 0x5eed));
  const valCount = valFraction > 0 ? Math.min(images.length - 1, Math.max(1, Math.round(images.length * valFraction))) : 0;
  const valIds = new Set(order.slice(0, valCount).map((i) => i.id));
  return { train: images.filter((i) => !valIds.has(i.id)), val: images.filter((i) => valIds.has(i.id)) };
}

/** A model input shaped like the photos: portrait, landscape or square, sides multiples of 32. */
export function inputSizeFor(images: readonly TrainImage[]): { width: number; height: number } {
  const ratios = images.map((i) => i.height / i.width).sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)];
  if (median > 1.2) return { width: 352, height: 512 };
  if (median < 1 / 1.2) return { width: 512, height: 352 };
  return { width: 416, height: 416 };
}
