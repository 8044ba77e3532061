// Reading a COCO file that may be anything: too big, binary, not JSON, JSON with "NaN" strings, nulls,
// 1e400 (read as infinity), negative or huge numbers. Whatever is wrong is said in words, per entry
// where the file is COCO at all, and nothing is thrown but a UsageError that names the file.
import fs from 'node:fs';
import { formatBytes } from '../../common/format.js';
import { UsageError } from '../base/errors.js';
import { STRUCTURAL_SCORE, type Box4, type LintCategory, type LintPhoto, type Problem, type ProblemKind } from './photos.js';

/** Largest COCO file read: parsing takes a few times its size in memory. Boxes without masks: about 1.5 million. */
export const MAX_COCO_BYTES = 256 * 1024 * 1024;
/** Bytes looked at before parsing: a JSON object, not a binary file or pages of blank space. */
const HEAD_BYTES = 64 * 1024;
/** Sides beyond this are no photo's (sharp reads up to 16383 x 16383 for most formats). */
const MAX_SIDE = 1_000_000;
/** Boxes may reach this far over the photo's edge (rounding of tools that draw on a scaled view). */
const EDGE_TOLERANCE = 1;

/** Checks the size and the first bytes, then parses: a file that cannot be a COCO file is refused before it fills memory. */
export function readJsonFile(file: string, maxBytes = MAX_COCO_BYTES): unknown {
  let size: number;
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) throw new UsageError(`${file}: is a folder, not a COCO file`);
    size = st.size;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  if (size === 0) throw new UsageError(`${file}: empty file (0 bytes), not a COCO file`);
  if (size > maxBytes) throw new UsageError(`${file}: ${formatBytes(size)} is more than the ${formatBytes(maxBytes)} a COCO file is read up to; is it the right file?`);
  const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.includes(0)) throw new UsageError(`${file}: binary data, not a COCO file (a COCO file is JSON text)`);
  const start = head.toString('utf8').replace(/^\uFEFF/, '');
  const first = start.search(/\S/);
  if (first < 0) throw new UsageError(`${file}: ${size > head.length ? `the first ${formatBytes(head.length)} are` : 'it is'} blank space, not a COCO file`);
  if (start[first] !== '{') {
    throw new UsageError(`${file}: not a COCO file: it starts with ${JSON.stringify(start.slice(first, first + 20))}, where a COCO file starts with "{"`);
  }
  try {
    const text = fs.readFileSync(file, 'utf8');
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
}

/** A value as it appeared, for a message: "NaN" (text), null, infinity (a number too large). */
function shown(v: unknown): string {
  if (typeof v === 'string') return `${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)} (text, not a number)`;
  if (typeof v === 'number' && !Number.isFinite(v)) return 'a number too large to read';
  if (v === undefined) return 'missing';
  const json = JSON.stringify(v);
  return json.length > 40 ? `${json.slice(0, 40)}...` : json;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isSide = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= MAX_SIDE;

export interface CocoStructure {
  photos: LintPhoto[];
  categories: LintCategory[];
  /** Faults of the file's structure, one per entry; entries with faults are left out of photos and categories. */
  faults: Problem[];
  /** Entries in the file's images and annotations lists, sound or not. */
  imageCount: number;
  annotationCount: number;
}

class FaultList {
  readonly list: Problem[] = [];
  add(kind: ProblemKind, message: string, ids: { photoId?: number | null; photo?: string | null; boxId?: number | null } = {}): void {
    this.list.push({ boxId: ids.boxId ?? null, photoId: ids.photoId ?? null, photo: ids.photo ?? null, kind, message, score: STRUCTURAL_SCORE });
  }
}

function topLevelList(raw: Record<string, unknown>, key: string, name: string): unknown[] {
  const v = raw[key];
  if (!Array.isArray(v)) throw new UsageError(`${name}: not a COCO detection file: "${key}" is ${v === undefined ? 'missing' : `not a list but ${shown(v)}`}`);
  return v;
}

function readImages(list: unknown[], faults: FaultList): Map<number, LintPhoto> {
  const photos = new Map<number, LintPhoto>();
  const names = new Map<string, number>();
  list.forEach((img, i) => {
    if (!isObject(img)) return faults.add('invalid-image', `images[${i}] is ${shown(img)}, not an image entry`);
    const id = img.id;
    if (!isId(id)) return faults.add('invalid-image', `images[${i}]: id ${shown(id)} is not a whole number above 0`);
    const at = { photoId: id };
    if (photos.has(id)) return faults.add('duplicate-id', `image id ${id} is used twice`, at);
    const name = img.file_name;
    if (typeof name !== 'string' || name.trim() === '') return faults.add('invalid-image', `image ${id}: file_name ${shown(name)} is not a file name`, at);
    if (names.has(name)) return faults.add('duplicate-image', `image ${id}: ${name} is listed twice (also as image ${names.get(name)})`, { ...at, photo: name });
    for (const side of ['width', 'height'] as const) {
      if (!isSide(img[side])) return faults.add('invalid-image', `image ${id} (${name}): ${side} ${shown(img[side])} is not a number of pixels`, { ...at, photo: name });
    }
    names.set(name, id);
    photos.set(id, { id, name, width: img.width as number, height: img.height as number, boxes: [] });
  });
  return photos;
}

function readCategories(list: unknown[], faults: FaultList): Map<number, LintCategory> {
  const categories = new Map<number, LintCategory>();
  list.forEach((c, i) => {
    if (!isObject(c)) return faults.add('invalid-category', `categories[${i}] is ${shown(c)}, not a category entry`);
    if (!isId(c.id)) return faults.add('invalid-category', `categories[${i}]: id ${shown(c.id)} is not a whole number above 0`);
    if (categories.has(c.id)) return faults.add('duplicate-id', `category id ${c.id} is used twice`);
    if (typeof c.name !== 'string' || c.name.trim() === '') return faults.add('invalid-category', `category ${c.id}: name ${shown(c.name)} is not a name`);
    categories.set(c.id, { id: c.id, name: c.name });
  });
  return categories;
}

/** The box of an annotation, or the words for what is wrong with it. */
function readBox(bbox: unknown, photo: LintPhoto): { box: Box4 } | { kind: ProblemKind; why: string } {
  if (!Array.isArray(bbox) || bbox.length !== 4) return { kind: 'invalid-box', why: `bbox ${shown(bbox)} is not [x, y, width, height]` };
  const bad = bbox.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) return { kind: 'invalid-box', why: `bbox ${['x', 'y', 'width', 'height'][bad]} is ${shown(bbox[bad])}` };
  const [x, y, w, h] = bbox as number[];
  if (w < 0 || h < 0) return { kind: 'negative-box', why: `bbox [${bbox.join(', ')}] has a negative ${w < 0 ? 'width' : 'height'}` };
  if (w === 0 || h === 0) return { kind: 'invalid-box', why: `bbox [${bbox.join(', ')}] is empty (${w === 0 ? 'width' : 'height'} 0)` };
  if (x < -EDGE_TOLERANCE || y < -EDGE_TOLERANCE || x + w > photo.width + EDGE_TOLERANCE || y + h > photo.height + EDGE_TOLERANCE) {
    return { kind: 'outside-image', why: `bbox [${bbox.join(', ')}] lies outside its ${photo.width}x${photo.height} photo` };
  }
  return { box: [x, y, w, h] };
}

function readAnnotations(list: unknown[], photos: Map<number, LintPhoto>, categories: Map<number, LintCategory>, faults: FaultList, ids: Set<number>): void {
  list.forEach((a, i) => {
    if (!isObject(a)) return faults.add('invalid-annotation', `annotations[${i}] is ${shown(a)}, not an annotation`);
    if (!isId(a.id)) return faults.add('invalid-annotation', `annotations[${i}]: id ${shown(a.id)} is not a whole number above 0`);
    const boxId = a.id;
    if (ids.has(boxId)) return faults.add('duplicate-id', `annotation id ${boxId} is used twice`, { boxId });
    ids.add(boxId);
    const photo = isId(a.image_id) ? photos.get(a.image_id) : undefined;
    const imageRef = isId(a.image_id) ? a.image_id : null;
    if (!photo) return faults.add('missing-image', `annotation ${boxId} refers to image ${shown(a.image_id)}, which is not in images (or is not valid)`, { boxId, photoId: imageRef });
    const at = { boxId, photoId: photo.id, photo: photo.name };
    if (!isId(a.category_id) || !categories.has(a.category_id)) {
      return faults.add('missing-category', `annotation ${boxId} refers to category ${shown(a.category_id)}, which is not in categories`, at);
    }
    const read = readBox(a.bbox, photo);
    if ('why' in read) return faults.add(read.kind, `annotation ${boxId}: ${read.why}`, at);
    if (a.score !== undefined && !(typeof a.score === 'number' && a.score >= 0 && a.score <= 1)) {
      return faults.add('invalid-annotation', `annotation ${boxId}: score ${shown(a.score)} is not a number from 0 to 1`, at);
    }
    if (a.verified !== undefined && typeof a.verified !== 'boolean') return faults.add('invalid-annotation', `annotation ${boxId}: verified ${shown(a.verified)} is not true or false`, at);
    photo.boxes.push({ id: boxId, categoryId: a.category_id, bbox: read.box, score: a.score as number | undefined, verified: a.verified as boolean | undefined });
  });
}

/**
 * The photos, boxes and categories of a parsed COCO document, and a fault for every entry that is
 * not sound (left out of the rest). Throws a UsageError only where the document is not COCO at all.
 */
export function checkCocoStructure(raw: unknown, name: string): CocoStructure {
  if (!isObject(raw)) throw new UsageError(`${name}: not a COCO detection file: the document is ${Array.isArray(raw) ? 'a list (a COCO results file?)' : shown(raw)}, not an object`);
  const images = topLevelList(raw, 'images', name);
  const annotations = topLevelList(raw, 'annotations', name);
  const categoryList = topLevelList(raw, 'categories', name);
  const faults = new FaultList();
  const photos = readImages(images, faults);
  const categories = readCategories(categoryList, faults);
  readAnnotations(annotations, photos, categories, faults, new Set());
  return { photos: [...photos.values()], categories: [...categories.values()], faults: faults.list, imageCount: images.length, annotationCount: annotations.length };
}
