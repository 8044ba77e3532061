// Exports of a workspace (COCO JSON, YOLO txt, Pascal VOC XML) and the import of a COCO file.
import path from 'node:path';
import type { Box, ExportFilter } from '../../contract/api.js';
import type { Category } from '../categories.js';
import { clipBox, cocoDocumentSchema, cocoProblems, compareNames, type CocoDocument } from '../coco.js';

export interface ExportImage {
  name: string;
  width: number;
  height: number;
  boxes: Box[];
}

/** Whether a box goes into an export: checked category, and a score at the slider or a person's word for it. */
export function keepsBox(box: Box, filter: ExportFilter): boolean {
  if (filter.categoryIds && !filter.categoryIds.includes(box.categoryId)) return false;
  if (filter.verifiedOnly && !box.verified) return false;
  return box.verified || box.score >= filter.minScore;
}

/** The boxes of each image that pass the filter, clipped to the picture, with empty boxes dropped. */
function filtered(images: ExportImage[], filter: ExportFilter): { image: ExportImage; boxes: [number, number, number, number][]; kept: Box[] }[] {
  return [...images]
    .sort((a, b) => compareNames(a.name, b.name))
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

/** YOLO: classes.txt (one name a line, line number = class index) and per image "class cx cy w h", normalised. */
export function buildYoloExport(images: ExportImage[], categories: readonly Category[], filter: ExportFilter): ExportFile[] {
  const index = new Map(categories.map((c, i) => [c.id, i]));
  const files: ExportFile[] = [{ name: 'classes.txt', content: categories.map((c) => c.name).join('\n') + '\n' }];
  for (const { image, boxes, kept } of filtered(images, filter)) {
    const lines = boxes.map(([x, y, w, h], k) => {
      const f = (v: number) => v.toFixed(6);
      return `${index.get(kept[k].categoryId)} ${f((x + w / 2) / image.width)} ${f((y + h / 2) / image.height)} ${f(w / image.width)} ${f(h / image.height)}`;
    });
    files.push({ name: withExtension(exportName(image.name), '.txt'), content: lines.length ? lines.join('\n') + '\n' : '' });
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
  problems: string[];
}

/**
 * Reads a COCO document and matches its images to open images: by the whole relative name first,
 * then by file name where that is unique. Categories are matched by name (then id). Annotations
 * without a score are a person's labels, so they come in verified.
 */
export function importCocoText(text: string, openNames: string[], categories: readonly Category[]): CocoImport {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`the file is not JSON: ${(err as Error).message}`);
  }
  const parsed = cocoDocumentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`the file is not a COCO detection document: ${issue.path.join('.') || 'document'}: ${issue.message}`);
  }
  const doc = parsed.data;
  const problems = cocoProblems(doc).slice(0, 20);
  const byName = new Map(categories.map((c) => [c.name, c.id]));
  const ours = new Set(categories.map((c) => c.id));
  const categoryMap = new Map<number, number>();
  for (const c of doc.categories) {
    const id = byName.get(c.name) ?? (ours.has(c.id) ? c.id : undefined);
    if (id === undefined) problems.push(`category "${c.name}" is not one of this model's categories; its boxes are left out`);
    else categoryMap.set(c.id, id);
  }
  const exact = new Set(openNames);
  const byBase = new Map<string, string[]>();
  for (const n of openNames) {
    const base = path.posix.basename(n);
    byBase.set(base, [...(byBase.get(base) ?? []), n]);
  }
  const annotationsByImage = new Map<number, CocoDocument['annotations']>();
  for (const a of doc.annotations) annotationsByImage.set(a.image_id, [...(annotationsByImage.get(a.image_id) ?? []), a]);
  const matched: ImportedImage[] = [];
  let unmatched = 0;
  let annotations = 0;
  const taken = new Set<string>();
  for (const img of doc.images) {
    const fileName = img.file_name.replace(/\\/g, '/');
    let name: string | undefined = exact.has(fileName) ? fileName : undefined;
    if (!name) {
      const candidates = byBase.get(path.posix.basename(fileName)) ?? [];
      if (candidates.length === 1) name = candidates[0];
    }
    if (!name || taken.has(name)) {
      unmatched++;
      continue;
    }
    taken.add(name);
    const boxes: ImportedImage['boxes'] = [];
    for (const a of annotationsByImage.get(img.id) ?? []) {
      const categoryId = categoryMap.get(a.category_id);
      if (categoryId === undefined) continue;
      boxes.push({ categoryId, score: a.score ?? 1, bbox: [...a.bbox] as [number, number, number, number], verified: a.verified ?? a.score === undefined });
    }
    annotations += boxes.length;
    matched.push({ name, width: img.width, height: img.height, boxes });
  }
  return { matched, unmatched, annotations, problems };
}
