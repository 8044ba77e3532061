// The import of a COCO file onto the open photos: read, checked, and matched to them by name.
import path from 'node:path';
import { plural } from '../common/format.js';
import { importTooLarge } from '../contract/import-limit.js';
import type { Category } from '../core/formats/categories.js';
import { cocoDocumentSchema, fillAnnotationDefaults, type CocoDocument } from '../core/formats/coco.js';
import { clipBox } from '../core/formats/labelled-images.js';

export interface ImportedImage {
  /** The open image's name this COCO image was matched to. */
  name: string;
  width: number;
  height: number;
  boxes: { categoryId: number; score: number; bbox: [number, number, number, number]; verified: boolean }[];
}

export interface CocoImport {
  matched: ImportedImage[];
  unmatched: number;
  annotations: number;
  /** What was repaired or left out, for the person to read. */
  problems: string[];
}

/** "images[3] (a.jpg): width is missing": where a schema problem is, in the file's own terms. */
function describeIssue(raw: unknown, issue: { path: PropertyKey[]; message: string }): string {
  let at: unknown = raw;
  let where = '';
  for (const key of issue.path) {
    const parent = at;
    at = at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined;
    if (typeof key === 'number') {
      where += `[${key}]`;
      const entry = at as { file_name?: unknown; id?: unknown } | undefined;
      if (entry && typeof entry === 'object' && typeof entry.file_name === 'string') where += ` (${entry.file_name})`;
      else if (entry && typeof entry === 'object' && typeof entry.id === 'number') where += ` (id ${entry.id})`;
    } else {
      where += `${where ? '.' : ''}${String(key)}`;
    }
    if (at === undefined && parent !== undefined) return `${where || 'document'} is missing`;
  }
  return `${where || 'document'}: ${issue.message}`;
}

const firstFew = (items: (string | number)[]) => items.slice(0, 5).join(', ') + (items.length > 5 ? ` and ${items.length - 5} more` : '');

/**
 * Reads a COCO document and matches its images to open images: by the whole relative name first,
 * then by file name where that is unique. Categories are matched by name. Annotations without a
 * score are a person's labels, so they come in verified.
 *
 * Nothing is applied here: the caller gets the whole result or an error, so an import is all or nothing.
 * Errors (the file cannot be trusted): too large, not JSON, not COCO (a field missing or of the wrong
 * type), an image id or a category id used twice, an image listed twice.
 * Repairs (listed in `problems`): boxes reaching outside their image are clipped to it, and boxes
 * wholly outside (nothing left after clipping) are left out; boxes of categories this model does not
 * have, of category ids not in the file's categories, or of image ids not in the file's images are
 * left out; duplicate annotation ids are harmless (boxes get ids of their own) and only noted.
 */
export function importCocoText(text: string, openNames: string[], categories: readonly Category[]): CocoImport {
  const doc = parseCocoText(text);
  refuseAmbiguousIds(doc);
  const problems: string[] = [];
  const boxes = annotationsByImage(doc, categories, problems);
  return { ...matchImages(doc, openNames, boxes, problems), problems };
}

/** The document, or an error saying why the file is not one: too large, not JSON, not COCO. */
function parseCocoText(text: string): CocoDocument {
  const tooLarge = importTooLarge(Buffer.byteLength(text, 'utf8'));
  if (tooLarge) throw new Error(tooLarge);
  let raw: unknown;
  try {
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new Error(`the file is not JSON: ${(err as Error).message}`);
  }
  if (Array.isArray(raw)) throw new Error('the file is a list of detection results, not a COCO document: it needs "images" with file names and sizes, "annotations" and "categories"');
  fillAnnotationDefaults(raw);
  const parsed = cocoDocumentSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    throw new Error(`the file is not a COCO detection document: ${issues.slice(0, 3).map((i) => describeIssue(raw, i)).join('; ')}${issues.length > 3 ? ` (and ${issues.length - 3} more)` : ''}`);
  }
  return parsed.data;
}

/** Errors: ids and names that make it ambiguous which box belongs where. */
function refuseAmbiguousIds(doc: CocoDocument): void {
  const imagesById = new Map<number, CocoDocument['images'][number]>();
  const imageNames = new Map<string, number>();
  const errors: string[] = [];
  for (const img of doc.images) {
    if (imagesById.has(img.id)) errors.push(`image id ${img.id} is used twice (${imagesById.get(img.id)!.file_name}, ${img.file_name})`);
    const name = img.file_name.replace(/\\/g, '/');
    if (imageNames.has(name)) errors.push(`image ${name} is listed twice (ids ${imageNames.get(name)} and ${img.id})`);
    imagesById.set(img.id, img);
    imageNames.set(name, img.id);
  }
  const fileCategories = new Map<number, string>();
  for (const c of doc.categories) {
    if (fileCategories.has(c.id)) errors.push(`category id ${c.id} is used twice (${fileCategories.get(c.id)}, ${c.name})`);
    fileCategories.set(c.id, c.name);
  }
  if (errors.length > 0) throw new Error(`the file cannot be imported: ${errors.slice(0, 3).join('; ')}${errors.length > 3 ? ` (and ${errors.length - 3} more)` : ''}; nothing was changed`);
}

/** The annotations that can be imported, by the file's image id, each with our category id; what was left out goes to `problems`. */
function annotationsByImage(doc: CocoDocument, categories: readonly Category[], problems: string[]): Map<number, { annotation: CocoDocument['annotations'][number]; categoryId: number }[]> {
  const ours = new Map(categories.map((c) => [c.name.trim().toLowerCase(), c.id]));
  const fileCategories = new Set(doc.categories.map((c) => c.id));
  const imageIds = new Set(doc.images.map((img) => img.id));
  const categoryMap = new Map<number, number>();
  const unknownCategories: string[] = [];
  for (const c of doc.categories) {
    const id = ours.get(c.name.trim().toLowerCase());
    if (id === undefined) unknownCategories.push(c.name);
    else categoryMap.set(c.id, id);
  }
  const annotationIds = new Set<number>();
  const duplicateAnnotationIds: number[] = [];
  const byImage = new Map<number, { annotation: CocoDocument['annotations'][number]; categoryId: number }[]>();
  let danglingImage = 0;
  let danglingCategory = 0;
  let unknownCategoryBoxes = 0;
  for (const a of doc.annotations) {
    if (annotationIds.has(a.id)) duplicateAnnotationIds.push(a.id);
    annotationIds.add(a.id);
    const categoryId = categoryMap.get(a.category_id);
    if (!imageIds.has(a.image_id)) danglingImage++;
    else if (!fileCategories.has(a.category_id)) danglingCategory++;
    else if (categoryId === undefined) unknownCategoryBoxes++;
    else {
      const list = byImage.get(a.image_id);
      if (list) list.push({ annotation: a, categoryId });
      else byImage.set(a.image_id, [{ annotation: a, categoryId }]);
    }
  }
  if (unknownCategories.length > 0) problems.push(`${plural(unknownCategoryBoxes, 'box', 'boxes')} of ${plural(unknownCategories.length, 'category', 'categories')} this model does not have (${firstFew(unknownCategories.map((n) => `"${n}"`))}) left out`);
  if (danglingCategory > 0) problems.push(`${plural(danglingCategory, 'box', 'boxes')} with a category id that is not in the file's categories left out`);
  if (danglingImage > 0) problems.push(`${plural(danglingImage, 'box', 'boxes')} with an image id that is not in the file's images left out`);
  if (duplicateAnnotationIds.length > 0) problems.push(`annotation ids used more than once (${firstFew([...new Set(duplicateAnnotationIds)])}): every box was imported, with ids of its own`);
  return byImage;
}

/** The open name for a file name of another tool's file: the whole relative name, else a file name only one open photo has. */
export function openNameMatcher(openNames: Iterable<string>): (fileName: string) => string | undefined {
  const exact = new Set<string>();
  const byBase = new Map<string, string[]>();
  for (const n of openNames) {
    exact.add(n);
    const base = path.posix.basename(n);
    const list = byBase.get(base);
    if (list) list.push(n);
    else byBase.set(base, [n]);
  }
  return (fileName) => {
    const name = fileName.replace(/\\/g, '/');
    if (exact.has(name)) return name;
    const candidates = byBase.get(path.posix.basename(name)) ?? [];
    return candidates.length === 1 ? candidates[0] : undefined;
  };
}

/** An imported photo's boxes in the pixels of the photo as it is open (the file may give another size). */
export function boxesAtPhotoSize(m: ImportedImage, photo: { width?: number; height?: number }): (ImportedImage['boxes'][number] & { bbox: [number, number, number, number] })[] {
  const sx = photo.width ? photo.width / m.width : 1;
  const sy = photo.height ? photo.height / m.height : 1;
  return m.boxes.map((b) => ({ ...b, bbox: [b.bbox[0] * sx, b.bbox[1] * sy, b.bbox[2] * sx, b.bbox[3] * sy] }));
}

/** The file's images matched to open names (openNameMatcher), with their boxes clipped. */
function matchImages(doc: CocoDocument, openNames: string[], boxesOf: ReturnType<typeof annotationsByImage>, problems: string[]): Omit<CocoImport, 'problems'> {
  const openName = openNameMatcher(openNames);
  const matched: ImportedImage[] = [];
  const unmatchedNames: string[] = [];
  let annotations = 0;
  let clipped = 0;
  let outside = 0;
  const taken = new Set<string>();
  for (const img of doc.images) {
    const fileName = img.file_name.replace(/\\/g, '/');
    const name = openName(fileName);
    if (!name || taken.has(name)) {
      unmatchedNames.push(fileName);
      continue;
    }
    taken.add(name);
    const boxes: ImportedImage['boxes'] = [];
    for (const { annotation: a, categoryId } of boxesOf.get(img.id) ?? []) {
      const box = clipBox(a.bbox, img.width, img.height);
      if (box[2] <= 0 || box[3] <= 0) {
        outside++;
        continue;
      }
      if (box.some((v, k) => Math.abs(v - a.bbox[k]) > 0.01)) clipped++;
      boxes.push({ categoryId, score: a.score ?? 1, bbox: box, verified: a.verified ?? a.score === undefined });
    }
    annotations += boxes.length;
    matched.push({ name, width: img.width, height: img.height, boxes });
  }
  if (clipped > 0) problems.push(`${plural(clipped, 'box', 'boxes')} reaching outside ${clipped === 1 ? 'its' : 'their'} image clipped to it`);
  if (outside > 0) problems.push(`${plural(outside, 'box', 'boxes')} wholly outside ${outside === 1 ? 'its' : 'their'} image (or empty) left out`);
  if (unmatchedNames.length > 0 && matched.length > 0) problems.push(`${plural(unmatchedNames.length, 'image')} of the file ${unmatchedNames.length === 1 ? 'is' : 'are'} not open here (${firstFew(unmatchedNames)})`);
  return { matched, unmatched: unmatchedNames.length, annotations };
}
