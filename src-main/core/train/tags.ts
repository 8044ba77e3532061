import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UsageError } from '../base/errors.js';
import type { TrainImage, TrainSet } from './dataset.js';

/**
 * Photos that name the categories they hold (image-level tags) but have no boxes. The file is
 * COCO-like: `images` (id, file_name), `categories` (id, name), `image_labels` [{image_id, category_id}].
 * Rules (docs/models-and-training.md): a category a photo is not tagged with is absent from it; tags
 * are matched to the training categories by name (any case) and tags of other categories are
 * ignored; a photo with no tag is left out (read as "not tagged", not "holds nothing"); a photo that
 * also has boxes is trained on its boxes.
 */
const tagFileSchema = z.object({
  images: z.array(z.object({ id: z.number().int(), file_name: z.string().min(1) }).passthrough()),
  categories: z.array(z.object({ id: z.number().int(), name: z.string().min(1) }).passthrough()).min(1),
  image_labels: z.array(z.object({ image_id: z.number().int(), category_id: z.number().int() }).passthrough()),
});

export interface TaggedPhoto {
  fileName: string;
  file: string;
  /** Class indices (of the training set's categories) that the photo holds. */
  classes: Set<number>;
}

export interface TagSet {
  photos: TaggedPhoto[];
  /** What was left out or ignored, in words, for the log and the model card. */
  notes: string[];
}

export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'file not found' : (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: ${what} is not a JSON file (${(err as Error).message})`);
  }
}

function tagClasses(doc: z.infer<typeof tagFileSchema>, set: TrainSet, tagsFile: string, notes: string[]): Map<number, number> {
  const classByName = new Map(set.categories.map((c, i) => [c.name.toLowerCase(), i]));
  const classOf = new Map<number, number>();
  const other: string[] = [];
  for (const c of doc.categories) {
    const index = classByName.get(c.name.toLowerCase());
    if (index === undefined) other.push(c.name);
    else classOf.set(c.id, index);
  }
  if (classOf.size === 0) {
    throw new UsageError(`${tagsFile}: none of its categories (${doc.categories.map((c) => c.name).join(', ')}) is one of the training categories (${set.categories.map((c) => c.name).join(', ')})`);
  }
  if (other.length > 0) notes.push(`tags of categories the training does not have are ignored: ${other.join(', ')}`);
  return classOf;
}

/** Reads a tags file: its categories matched by name to the boxed set's, its photos found under `imagesDir`. */
export function readTagSet(tagsFile: string, imagesDir: string, set: TrainSet): TagSet {
  const parsed = tagFileSchema.safeParse(readJsonFile(tagsFile, 'the tags file'));
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new UsageError(`${tagsFile}: not a tags file (images, categories, image_labels): ${first.path.join('.') || 'document'}: ${first.message}`);
  }
  if (!fs.existsSync(imagesDir) || !fs.statSync(imagesDir).isDirectory()) throw new UsageError(`${imagesDir}: no such folder of tagged photos`);
  const doc = parsed.data;
  if (doc.image_labels.length === 0) throw new UsageError(`${tagsFile}: its image_labels list is empty: no photo is tagged`);
  const notes: string[] = [];
  const classOf = tagClasses(doc, set, tagsFile, notes);
  const known = new Set(doc.categories.map((c) => c.id));
  const byId = new Map<number, { fileName: string; classes: Set<number> }>();
  for (const img of doc.images) {
    if (byId.has(img.id)) throw new UsageError(`${tagsFile}: image id ${img.id} is used twice`);
    byId.set(img.id, { fileName: img.file_name, classes: new Set() });
  }
  let unknownImage = 0;
  for (const l of doc.image_labels) {
    if (!known.has(l.category_id)) throw new UsageError(`${tagsFile}: a tag of image ${l.image_id} names category ${l.category_id}, which the file does not list`);
    const photo = byId.get(l.image_id);
    if (!photo) unknownImage++;
    else if (classOf.has(l.category_id)) photo.classes.add(classOf.get(l.category_id)!);
  }
  if (unknownImage > 0) notes.push(`${unknownImage} tags name image ids the file does not list; they are ignored`);
  return { photos: findTaggedPhotos([...byId.values()], imagesDir, set, notes), notes };
}

function findTaggedPhotos(entries: { fileName: string; classes: Set<number> }[], imagesDir: string, set: TrainSet, notes: string[]): TaggedPhoto[] {
  const boxed = new Map(set.images.map((i) => [path.resolve(i.file), i]));
  const photos: TaggedPhoto[] = [];
  const seen = new Set<string>();
  let untagged = 0;
  let missing = 0;
  let alsoBoxed = 0;
  let conflicting = 0;
  for (const { fileName, classes } of entries) {
    const file = path.resolve(imagesDir, fileName);
    const boxedImage = boxed.get(file);
    if (classes.size === 0) untagged++;
    else if (!fs.existsSync(file)) missing++;
    else if (boxedImage) {
      alsoBoxed++;
      // Tags that disagree with the boxes: the boxes were drawn on the photo, so they win.
      const boxedClasses = new Set(boxedImage.boxes.map((b) => b.classIndex));
      if ([...classes].some((c) => !boxedClasses.has(c)) || [...boxedClasses].some((c) => !classes.has(c))) conflicting++;
    } else if (!seen.has(file)) {
      seen.add(file);
      photos.push({ fileName, file, classes });
    }
  }
  if (untagged > 0) notes.push(`${untagged} photo${untagged > 1 ? 's' : ''} with no tag left out (an empty tag list is read as "not tagged")`);
  if (missing > 0) notes.push(`${missing} tagged photo${missing > 1 ? 's' : ''} not found under ${imagesDir}, left out`);
  if (alsoBoxed > 0) notes.push(`${alsoBoxed} tagged photo${alsoBoxed > 1 ? 's' : ''} also ${alsoBoxed > 1 ? 'have' : 'has'} boxes: trained on the boxes${conflicting > 0 ? ` (${conflicting} with tags that disagree with the boxes)` : ''}`);
  return photos;
}

/** A box the model found on a tagged photo, in source pixels. */
export interface ModelBox {
  category: string;
  bbox: [number, number, number, number];
  score: number;
}

/** Which of the model's boxes on a tagged photo are kept as training boxes. */
export interface PseudoBoxRules {
  /** A category labelled once per photo: its best box, from this score on. */
  singleMinScore: number;
  /** Other categories (footwear, bags): up to `multiMax` boxes, each from this score on. */
  multiMinScore: number;
  multiMax: number;
}

export const PSEUDO_BOX_RULES: PseudoBoxRules = { singleMinScore: 0.2, multiMinScore: 0.4, multiMax: 4 };

/**
 * Training photos from tagged ones. The model's boxes are kept only for the categories a photo is
 * tagged with (by `rules`). Every category the photo is not tagged with is a negative everywhere in
 * it; a tagged one is not a negative anywhere (its items without a kept box are unknown).
 */
export function taggedTrainImages(
  tags: TagSet,
  set: TrainSet,
  singleInstance: ReadonlySet<number>,
  modelBoxes: ReadonlyMap<string, readonly ModelBox[]>,
  rules: PseudoBoxRules,
  firstId: number,
): { images: TrainImage[]; pseudoBoxes: number } {
  const classByName = new Map(set.categories.map((c, i) => [c.name.toLowerCase(), i]));
  let pseudoBoxes = 0;
  const images = tags.photos.map((photo, i): TrainImage => {
    const found = (modelBoxes.get(photo.file) ?? [])
      .map((b) => ({ ...b, classIndex: classByName.get(b.category.toLowerCase()) }))
      .filter((b): b is ModelBox & { classIndex: number } => b.classIndex !== undefined && photo.classes.has(b.classIndex))
      .sort((a, b) => b.score - a.score);
    const boxes: TrainImage['boxes'] = [];
    for (const c of photo.classes) {
      const mine = found.filter((b) => b.classIndex === c);
      const kept = singleInstance.has(c) ? mine.slice(0, 1).filter((b) => b.score >= rules.singleMinScore) : mine.filter((b) => b.score >= rules.multiMinScore).slice(0, rules.multiMax);
      for (const b of kept) boxes.push({ bbox: b.bbox, classIndex: c, categoryId: set.categories[c].id });
    }
    pseudoBoxes += boxes.length;
    const negativeWeights = new Float32Array(set.categories.length).fill(1);
    for (const c of photo.classes) negativeWeights[c] = 0;
    return { id: firstId + i, file: photo.file, fileName: photo.fileName, width: 0, height: 0, boxes, negativeWeights };
  });
  return { images, pseudoBoxes };
}

const labelFileSchema = z.object({
  images: z.array(z.object({ id: z.number().int(), file_name: z.string() }).passthrough()),
  annotations: z.array(z.object({ image_id: z.number().int(), category_id: z.number().int(), bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]), score: z.number().optional() }).passthrough()),
  categories: z.array(z.object({ id: z.number().int(), name: z.string() }).passthrough()),
});

/** The model's boxes from a `label` file of the tagged photos (file names relative to `imagesDir`). */
export function readModelBoxes(labelFile: string, imagesDir: string): Map<string, ModelBox[]> {
  const parsed = labelFileSchema.safeParse(readJsonFile(labelFile, "the model's boxes"));
  if (!parsed.success) throw new UsageError(`${labelFile}: not a COCO file of a model's boxes: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  const doc = parsed.data;
  const names = new Map(doc.categories.map((c) => [c.id, c.name]));
  const files = new Map(doc.images.map((i) => [i.id, path.resolve(imagesDir, i.file_name)]));
  const boxes = new Map<string, ModelBox[]>();
  for (const a of doc.annotations) {
    const file = files.get(a.image_id);
    const category = names.get(a.category_id);
    if (!file || !category) continue;
    boxes.set(file, [...(boxes.get(file) ?? []), { category, bbox: a.bbox, score: a.score ?? 1 }]);
  }
  return boxes;
}
