// COCO detection documents: their schema, the one builder (the command line's labels and the app's
// exports), their checks, and the merge of shards.
import { z } from 'zod';
import type { Category } from './categories.js';
import { compareNames, exportedBoxes, round2, type BoxFilter, type LabelledImage } from './labelled-images.js';

const bbox = z.tuple([z.number().finite(), z.number().finite(), z.number().finite().nonnegative(), z.number().finite().nonnegative()]);

export const cocoImageSchema = z.object({
  id: z.number().int().positive(),
  file_name: z.string().min(1),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  license: z.number().int().optional(),
  /** The model whose boxes these are ("id@version"), where the app knows it. */
  labelled_by: z.string().optional(),
});

export const cocoAnnotationSchema = z.object({
  id: z.number().int().positive(),
  image_id: z.number().int().positive(),
  category_id: z.number().int().positive(),
  bbox,
  area: z.number().finite().nonnegative(),
  iscrowd: z.union([z.literal(0), z.literal(1)]),
  score: z.number().min(0).max(1).optional(),
  verified: z.boolean().optional(),
});

export const cocoCategorySchema = z.object({
  id: z.number().int().positive(),
  name: z.string().min(1),
  supercategory: z.string().default(''),
});

export const cocoDocumentSchema = z.object({
  info: z.record(z.string(), z.unknown()).default({}),
  licenses: z.array(z.record(z.string(), z.unknown())).default([]),
  images: z.array(cocoImageSchema),
  annotations: z.array(cocoAnnotationSchema),
  categories: z.array(cocoCategorySchema),
});

/**
 * COCO requires `area` and `iscrowd` on every annotation, but many tools leave them out of the files
 * they write, and neither an import nor training needs them: where absent they are filled in (the
 * box's area, not a crowd). Present but wrong, they are still refused by the schema.
 */
export function fillAnnotationDefaults(raw: unknown): void {
  const annotations = (raw as { annotations?: unknown } | null)?.annotations;
  if (!Array.isArray(annotations)) return;
  for (const a of annotations) {
    if (!a || typeof a !== 'object') continue;
    const annotation = a as { bbox?: unknown; area?: unknown; iscrowd?: unknown };
    const bbox = annotation.bbox;
    if (annotation.area === undefined && Array.isArray(bbox) && bbox.length === 4 && bbox.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      annotation.area = Math.max(0, bbox[2] * bbox[3]);
    }
    if (annotation.iscrowd === undefined) annotation.iscrowd = 0;
  }
}

export type CocoImage = z.infer<typeof cocoImageSchema>;
export type CocoAnnotation = z.infer<typeof cocoAnnotationSchema>;
export type CocoDocument = z.infer<typeof cocoDocumentSchema>;

export interface CocoInfo {
  description: string;
  version: string;
  model: string;
  date_created: string;
  [key: string]: unknown;
}

export interface CocoBuildOptions {
  /** The photos and boxes it keeps; every one when absent. */
  filter?: BoxFilter;
  /** Scores to 4 decimals (the app's exports); the command line writes the detector's scores as they are. */
  roundScores?: boolean;
}

/**
 * A COCO detection document. Images get ids from 1 in file-name order and annotations ids from 1 in
 * image order, so the same pictures and boxes always give the same document, however they were split.
 * Boxes are clipped to their picture (empty ones dropped); `verified` is written where a box has it.
 */
export function buildCocoDocument(images: readonly LabelledImage[], categories: readonly Category[], info: CocoInfo, options: CocoBuildOptions = {}): CocoDocument {
  const doc: CocoDocument = {
    info,
    licenses: [],
    images: [],
    annotations: [],
    categories: categories.map((c) => ({ id: c.id, name: c.name, supercategory: c.supercategory })),
  };
  let annotationId = 1;
  exportedBoxes(images, options.filter).forEach(({ image, boxes }, index) => {
    const imageId = index + 1;
    doc.images.push({ id: imageId, file_name: image.name, width: image.width, height: image.height, ...(image.labelledBy ? { labelled_by: image.labelledBy } : {}) });
    for (const { box, bbox } of boxes) {
      doc.annotations.push({
        id: annotationId++,
        image_id: imageId,
        category_id: box.categoryId,
        bbox,
        area: round2(bbox[2] * bbox[3]),
        iscrowd: 0,
        score: options.roundScores ? Math.round(box.score * 10000) / 10000 : box.score,
        ...(box.verified !== undefined ? { verified: box.verified } : {}),
      });
    }
  });
  return doc;
}

/** Problems that make a document invalid COCO beyond its shape: dangling ids, duplicates, boxes outside. */
export function cocoProblems(doc: CocoDocument): string[] {
  const problems: string[] = [];
  const images = new Map<number, CocoImage>();
  const names = new Set<string>();
  for (const img of doc.images) {
    if (images.has(img.id)) problems.push(`image id ${img.id} is used twice`);
    if (names.has(img.file_name)) problems.push(`image ${img.file_name} is listed twice`);
    images.set(img.id, img);
    names.add(img.file_name);
  }
  const categoryIds = new Set<number>();
  for (const c of doc.categories) {
    if (categoryIds.has(c.id)) problems.push(`category id ${c.id} is used twice`);
    categoryIds.add(c.id);
  }
  const annotationIds = new Set<number>();
  for (const a of doc.annotations) {
    if (annotationIds.has(a.id)) problems.push(`annotation id ${a.id} is used twice`);
    annotationIds.add(a.id);
    const img = images.get(a.image_id);
    if (!img) problems.push(`annotation ${a.id} refers to image ${a.image_id}, which is not in images`);
    if (!categoryIds.has(a.category_id)) problems.push(`annotation ${a.id} refers to category ${a.category_id}, which is not in categories`);
    if (img) {
      const [x, y, w, h] = a.bbox;
      const eps = 0.01;
      if (x < -eps || y < -eps || x + w > img.width + eps || y + h > img.height + eps) {
        problems.push(`annotation ${a.id}: box [${a.bbox.join(', ')}] lies outside its ${img.width}x${img.height} image`);
      }
    }
  }
  return problems;
}

/**
 * Joins documents that label disjoint sets of pictures (the shards of one run) into one. Categories
 * must agree by id and name; a picture in two documents is an error, since its boxes would be doubled.
 */
export function mergeCocoDocuments(docs: { name: string; doc: CocoDocument }[]): CocoDocument {
  if (docs.length === 0) throw new Error('nothing to merge');
  const categories = docs[0].doc.categories;
  const key = (cs: CocoDocument['categories']) => JSON.stringify([...cs].sort((a, b) => a.id - b.id).map((c) => [c.id, c.name]));
  const owner = new Map<string, string>();
  const images: { img: CocoImage; anns: CocoAnnotation[] }[] = [];
  for (const { name, doc } of docs) {
    if (key(doc.categories) !== key(categories)) {
      throw new Error(`${name}: its categories differ from ${docs[0].name}'s; only shards of one run, with one model, can be merged`);
    }
    const byImage = new Map<number, CocoAnnotation[]>();
    for (const a of doc.annotations) byImage.set(a.image_id, [...(byImage.get(a.image_id) ?? []), a]);
    for (const img of doc.images) {
      const earlier = owner.get(img.file_name);
      if (earlier) throw new Error(`${img.file_name} is in both ${earlier} and ${name}; shards must not overlap`);
      owner.set(img.file_name, name);
      images.push({ img, anns: byImage.get(img.id) ?? [] });
    }
  }
  images.sort((a, b) => compareNames(a.img.file_name, b.img.file_name));
  const merged: CocoDocument = { info: { ...docs[0].doc.info }, licenses: docs[0].doc.licenses, images: [], annotations: [], categories };
  let annotationId = 1;
  images.forEach(({ img, anns }, index) => {
    const imageId = index + 1;
    merged.images.push({ ...img, id: imageId });
    for (const a of anns) merged.annotations.push({ ...a, id: annotationId++, image_id: imageId });
  });
  return merged;
}
