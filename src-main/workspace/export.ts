// Exports of a workspace (COCO JSON, YOLO txt, Pascal VOC XML) and the import of a COCO file.
import path from 'node:path';
import type { Box, ExportFilter } from '../contract/api.js';
import { importTooLarge } from '../contract/import-limit.js';
import type { Category } from '../core/formats/categories.js';
import { clipBox, cocoDocumentSchema, compareNames, fillAnnotationDefaults, type CocoDocument } from '../core/formats/coco.js';

export interface ExportImage {
  name: string;
  width: number;
  height: number;
  boxes: Box[];
}

/** A box shown at a minimum score: scored at it or above, or one a person touched (verified). */
export function atMinScore(box: Box, minScore: number): boolean {
  return box.verified || box.score >= minScore;
}

/** Whether a box goes into an export: checked category, and a score at the slider or a person's word for it. */
export function keepsBox(box: Box, filter: ExportFilter): boolean {
  if (filter.categoryIds && !filter.categoryIds.includes(box.categoryId)) return false;
  if (filter.verifiedOnly && !box.verified) return false;
  return atMinScore(box, filter.minScore);
}

/**
 * Whether a photo goes into a verified-only export: a person verified its boxes (one at least), and
 * left none unverified that the filter would show. A photo not reviewed, or reviewed only in part, is
 * left out: listed without the boxes nobody looked at, it would teach a model those items are not there.
 */
export function isReviewed(image: Pick<ExportImage, 'boxes'>, filter: ExportFilter): boolean {
  const shown = { ...filter, verifiedOnly: false };
  let verified = 0;
  for (const box of image.boxes) {
    if (!keepsBox(box, shown)) continue;
    if (!box.verified) return false;
    verified++;
  }
  return verified > 0;
}

/** The photos an export lists, by name: all of them, or with verifiedOnly those reviewed. */
export function exportedImages(images: ExportImage[], filter: ExportFilter): ExportImage[] {
  return images.filter((image) => !filter.verifiedOnly || isReviewed(image, filter)).sort((a, b) => compareNames(a.name, b.name));
}

/** The boxes of each image that pass the filter, clipped to the picture, with empty boxes dropped. */
function filtered(images: ExportImage[], filter: ExportFilter): { image: ExportImage; boxes: [number, number, number, number][]; kept: Box[] }[] {
  return exportedImages(images, filter)
    .map((image) => {
      const kept: Box[] = [];
      const boxes: [number, number, number, number][] = [];
      for (const box of image.boxes) {
        if (!keepsBox(box, filter)) continue;
        const clipped = clipBox(box.bbox, image.width, image.height);
        if (clipped[2] <= 0 || clipped[3] <= 0) continue;
        kept.push(box);
        boxes.push(clipped);
      }
      return { image, boxes, kept };
    });
}

export function buildCocoExport(images: ExportImage[], categories: readonly Category[], filter: ExportFilter, info: Record<string, unknown>): CocoDocument {
  const doc: CocoDocument = {
    info: { ...info, filter: { categoryIds: filter.categoryIds ?? 'all', minScore: filter.minScore, verifiedOnly: filter.verifiedOnly } },
    licenses: [],
    images: [],
    annotations: [],
    categories: categories.map((c) => ({ id: c.id, name: c.name, supercategory: c.supercategory })),
  };
  let annotationId = 1;
  filtered(images, filter).forEach(({ image, boxes, kept }, index) => {
    const imageId = index + 1;
    doc.images.push({ id: imageId, file_name: image.name, width: image.width, height: image.height });
    boxes.forEach((bbox, k) => {
      doc.annotations.push({
        id: annotationId++,
        image_id: imageId,
        category_id: kept[k].categoryId,
        bbox,
        area: Math.round(bbox[2] * bbox[3] * 100) / 100,
        iscrowd: 0,
        score: Math.round(kept[k].score * 10000) / 10000,
        verified: kept[k].verified,
      });
    });
  });
  return doc;
}

export interface ExportFile {
  /** Relative to the export folder, with "/". */
  name: string;
  content: string;
}

const withExtension = (name: string, ext: string) => {
  const dot = name.lastIndexOf('.');
  const slash = name.lastIndexOf('/');
  return (dot > slash ? name.slice(0, dot) : name) + ext;
};

/** Absolute names (images outside the workspace folder) become their file name, so exports stay inside their folder. */
const exportName = (name: string) => (name.startsWith('/') || /^[A-Za-z]:/.test(name) ? path.posix.basename(name.replace(/\\/g, '/')) : name);

/** The files of a YOLO export that are not one photo's labels. */
export const YOLO_LIST_FILES: readonly string[] = ['classes.txt', 'images.txt'];
const yoloLabelFile = (imageName: string) => withExtension(exportName(imageName), '.txt');

/**
 * YOLO: classes.txt (one name a line, line number = class index), images.txt (the photos exported)
 * and per image "class cx cy w h", normalised.
 */
export function buildYoloExport(images: ExportImage[], categories: readonly Category[], filter: ExportFilter): ExportFile[] {
  const index = new Map(categories.map((c, i) => [c.id, i]));
  const exported = filtered(images, filter);
  const clash = exported.find(({ image }) => YOLO_LIST_FILES.includes(yoloLabelFile(image.name)));
  if (clash) throw new Error(`the labels of ${clash.image.name} would overwrite the export's own ${yoloLabelFile(clash.image.name)}: rename the photo, or export COCO`);
  const files: ExportFile[] = [
    { name: 'classes.txt', content: categories.map((c) => c.name).join('\n') + '\n' },
    // The photos these labels are for. To YOLO a photo without a label file has nothing in it, so a
    // verified-only export must be trained on this list, not on the whole folder.
    { name: 'images.txt', content: exported.map(({ image }) => image.name).join('\n') + '\n' },
  ];
  for (const { image, boxes, kept } of exported) {
    const lines = boxes.map(([x, y, w, h], k) => {
      const f = (v: number) => v.toFixed(6);
      return `${index.get(kept[k].categoryId)} ${f((x + w / 2) / image.width)} ${f((y + h / 2) / image.height)} ${f(w / image.width)} ${f(h / image.height)}`;
    });
    files.push({ name: yoloLabelFile(image.name), content: lines.length ? lines.join('\n') + '\n' : '' });
  }
  return files;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Pascal VOC: one XML per image, corners in 1-based pixels as VOC tools expect. */
export function buildVocExport(images: ExportImage[], categories: readonly Category[], filter: ExportFilter): ExportFile[] {
  const names = new Map(categories.map((c) => [c.id, c.name]));
  return filtered(images, filter).map(({ image, boxes, kept }) => {
    const name = exportName(image.name);
    const objects = boxes.map(([x, y, w, h], k) => {
      const xmin = Math.max(1, Math.round(x) + 1);
      const ymin = Math.max(1, Math.round(y) + 1);
      const xmax = Math.min(image.width, Math.round(x + w));
      const ymax = Math.min(image.height, Math.round(y + h));
      return `  <object>
    <name>${xml(names.get(kept[k].categoryId) ?? String(kept[k].categoryId))}</name>
    <pose>Unspecified</pose>
    <truncated>0</truncated>
    <difficult>0</difficult>
    <confidence>${kept[k].score.toFixed(4)}</confidence>
    <verified>${kept[k].verified ? 1 : 0}</verified>
    <bndbox><xmin>${xmin}</xmin><ymin>${ymin}</ymin><xmax>${Math.max(xmin, xmax)}</xmax><ymax>${Math.max(ymin, ymax)}</ymax></bndbox>
  </object>`;
    });
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
}

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

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
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
  const doc = parsed.data;

  // Errors: ids and names that make it ambiguous which box belongs where.
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

  const problems: string[] = [];
  const ours = new Map(categories.map((c) => [c.name.trim().toLowerCase(), c.id]));
  const categoryMap = new Map<number, number>();
  const unknownCategories: string[] = [];
  for (const c of doc.categories) {
    const id = ours.get(c.name.trim().toLowerCase());
    if (id === undefined) unknownCategories.push(c.name);
    else categoryMap.set(c.id, id);
  }

  const annotationIds = new Set<number>();
  const duplicateAnnotationIds: number[] = [];
  const annotationsByImage = new Map<number, CocoDocument['annotations']>();
  let danglingImage = 0;
  let danglingCategory = 0;
  let unknownCategoryBoxes = 0;
  for (const a of doc.annotations) {
    if (annotationIds.has(a.id)) duplicateAnnotationIds.push(a.id);
    annotationIds.add(a.id);
    if (!imagesById.has(a.image_id)) danglingImage++;
    else if (!fileCategories.has(a.category_id)) danglingCategory++;
    else if (!categoryMap.has(a.category_id)) unknownCategoryBoxes++;
    else {
      const list = annotationsByImage.get(a.image_id);
      if (list) list.push(a);
      else annotationsByImage.set(a.image_id, [a]);
    }
  }
  if (unknownCategories.length > 0) problems.push(`${plural(unknownCategoryBoxes, 'box', 'boxes')} of ${plural(unknownCategories.length, 'category', 'categories')} this model does not have (${firstFew(unknownCategories.map((n) => `"${n}"`))}) left out`);
  if (danglingCategory > 0) problems.push(`${plural(danglingCategory, 'box', 'boxes')} with a category id that is not in the file's categories left out`);
  if (danglingImage > 0) problems.push(`${plural(danglingImage, 'box', 'boxes')} with an image id that is not in the file's images left out`);
  if (duplicateAnnotationIds.length > 0) problems.push(`annotation ids used more than once (${firstFew([...new Set(duplicateAnnotationIds)])}): every box was imported, with ids of its own`);

  const exact = new Set(openNames);
  const byBase = new Map<string, string[]>();
  for (const n of openNames) {
    const base = path.posix.basename(n);
    const list = byBase.get(base);
    if (list) list.push(n);
    else byBase.set(base, [n]);
  }
  const matched: ImportedImage[] = [];
  const unmatchedNames: string[] = [];
  let annotations = 0;
  let clipped = 0;
  let outside = 0;
  const taken = new Set<string>();
  for (const img of doc.images) {
    const fileName = img.file_name.replace(/\\/g, '/');
    let name: string | undefined = exact.has(fileName) ? fileName : undefined;
    if (!name) {
      const candidates = byBase.get(path.posix.basename(fileName)) ?? [];
      if (candidates.length === 1) name = candidates[0];
    }
    if (!name || taken.has(name)) {
      unmatchedNames.push(fileName);
      continue;
    }
    taken.add(name);
    const boxes: ImportedImage['boxes'] = [];
    for (const a of annotationsByImage.get(img.id) ?? []) {
      const box = clipBox(a.bbox, img.width, img.height);
      if (box[2] <= 0 || box[3] <= 0) {
        outside++;
        continue;
      }
      if (box.some((v, k) => Math.abs(v - a.bbox[k]) > 0.01)) clipped++;
      boxes.push({ categoryId: categoryMap.get(a.category_id)!, score: a.score ?? 1, bbox: box, verified: a.verified ?? a.score === undefined });
    }
    annotations += boxes.length;
    matched.push({ name, width: img.width, height: img.height, boxes });
  }
  if (clipped > 0) problems.push(`${plural(clipped, 'box', 'boxes')} reaching outside ${clipped === 1 ? 'its' : 'their'} image clipped to it`);
  if (outside > 0) problems.push(`${plural(outside, 'box', 'boxes')} wholly outside ${outside === 1 ? 'its' : 'their'} image (or empty) left out`);
  if (unmatchedNames.length > 0 && matched.length > 0) problems.push(`${plural(unmatchedNames.length, 'image')} of the file ${unmatchedNames.length === 1 ? 'is' : 'are'} not open here (${firstFew(unmatchedNames)})`);
  return { matched, unmatched: unmatchedNames.length, annotations, problems };
}
