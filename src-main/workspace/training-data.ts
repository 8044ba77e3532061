// What a training in the app learns from: the reviewed photos of the workspace (the same rule as the
// "Verified boxes only" export: a person verified its boxes at the slider and left none unverified),
// their verified boxes, and the extra files the person gave (a COCO file's boxes, a tags file's tags,
// for the open photos of the same file name). Written as the COCO file (and tags file) train reads,
// with the photos' absolute paths as file names.
import { ApiError, type TrainingFile } from '../contract/api.js';
import type { Category } from '../core/formats/categories.js';
import { isReviewed } from '../core/formats/labelled-images.js';
import type { WorkspaceCategories } from './categories.js';
import { boxesAtPhotoSize, importCocoText, openNameMatcher } from './coco-import.js';
import { roundBbox, type ImageRecord, type ImageSet } from './image-set.js';

/** Photos a training needs at least, and a model is worth training on. */
export const MINIMUM_PHOTOS = 20;

/** A photo of the training set: its file and size, and its true boxes in workspace category ids. */
export interface TrainingPhoto {
  file: string;
  /** Its name in the workspace. */
  name: string;
  width: number;
  height: number;
  boxes: { categoryId: number; bbox: readonly number[] }[];
}

/** The reviewed photos at `minScore`, each with its verified boxes. */
export function reviewedPhotos(images: ImageSet, minScore: number): TrainingPhoto[] {
  const filter = { minScore, verifiedOnly: true };
  return [...images.all()]
    .filter((img) => img.state === 'done' && img.width && img.height && isReviewed(img, filter))
    .map((img) => ({ file: img.file, name: img.name, width: img.width!, height: img.height!, boxes: img.boxes.filter((b) => b.verified).map((b) => ({ categoryId: b.categoryId, bbox: b.bbox })) }));
}

/** Boxes per category on the photos, every workspace category listed. */
export function examplesPerCategory(photos: readonly TrainingPhoto[], categories: readonly Category[]): { id: number; name: string; examples: number }[] {
  const counts = new Map<number, number>();
  for (const p of photos) for (const b of p.boxes) counts.set(b.categoryId, (counts.get(b.categoryId) ?? 0) + 1);
  return categories.map((c) => ({ id: c.id, name: c.name, examples: counts.get(c.id) ?? 0 }));
}

/** Why a training on these photos and categories cannot start (and what to do), or null. */
export function trainingRefusal(reviewed: number, chosen: readonly { name: string; examples: number }[]): string | null {
  if (reviewed < MINIMUM_PHOTOS) {
    return `review at least ${MINIMUM_PHOTOS} photos: accept their boxes with A or Enter once they are right (${reviewed} reviewed so far)`;
  }
  const empty = chosen.filter((c) => c.examples === 0);
  if (empty.length > 0) {
    const names = empty.map((c) => c.name).join(', ');
    return `${names} ${empty.length === 1 ? 'has' : 'have'} no reviewed box: review photos with ${empty.length === 1 ? `a ${names}` : 'them'}, or leave ${names} out`;
  }
  if (chosen.length === 0) return 'no category has a reviewed box: accept the boxes of photos once they are right (A or Enter)';
  return null;
}

/** An open photo for a file name of another tool's file, matched as a COCO import matches (openNameMatcher). */
function openPhotoMatcher(images: ImageSet): (fileName: string) => ImageRecord | undefined {
  const byName = new Map([...images.all()].map((img) => [img.name, img]));
  const openName = openNameMatcher(byName.keys());
  return (fileName) => {
    const name = openName(fileName);
    return name === undefined ? undefined : byName.get(name);
  };
}

/**
 * The photos of extra COCO files that train too: open photos not reviewed here, whose boxes in the
 * file are all a person's (no score, or marked verified), scaled to the photo as it is open.
 */
export function cocoFilePhotos(files: readonly TrainingFile[], images: ImageSet, categories: WorkspaceCategories, taken: ReadonlySet<string>): { photos: TrainingPhoto[]; notes: string[] } {
  const photos: TrainingPhoto[] = [];
  const notes: string[] = [];
  const byName = new Map([...images.all()].map((img) => [img.name, img]));
  for (const file of files.filter((f) => f.kind === 'coco')) {
    let imported: ReturnType<typeof importCocoText>;
    try {
      imported = importCocoText(file.text, [...byName.keys()], categories.list);
    } catch (err) {
      throw new ApiError(`${file.fileName}: ${(err as Error).message}`);
    }
    let unverified = 0;
    const before = photos.length;
    for (const m of imported.matched) {
      const img = byName.get(m.name)!;
      if (taken.has(img.file) || m.boxes.length === 0) continue;
      if (m.boxes.some((b) => !b.verified)) {
        unverified++;
        continue;
      }
      const boxes = boxesAtPhotoSize(m, img).map((b) => ({ categoryId: b.categoryId, bbox: b.bbox }));
      photos.push({ file: img.file, name: img.name, width: img.width ?? m.width, height: img.height ?? m.height, boxes });
    }
    notes.push(`${file.fileName}: ${photos.length - before} photos with their boxes${unverified > 0 ? `; ${unverified} left out (boxes with scores: a model's, not a person's)` : ''}${imported.unmatched > 0 ? `; ${imported.unmatched} not open here` : ''}`);
  }
  return { photos, notes };
}

interface TagsDocument {
  images: { id: number; file_name: string }[];
  categories: { id: number; name: string }[];
  image_labels: { image_id: number; category_id: number }[];
}

/** A tags file (images, categories, image_labels) for the open photos of the same names: absolute file names, training's category ids. */
export function tagsForTraining(files: readonly TrainingFile[], images: ImageSet, trainCategories: readonly Category[], taken: ReadonlySet<string>): { doc: TagsDocument | undefined; notes: string[] } {
  const match = openPhotoMatcher(images);
  const ids = new Map(trainCategories.map((c) => [c.name.toLowerCase(), c.id]));
  const out: TagsDocument = { images: [], categories: trainCategories.map((c) => ({ id: c.id, name: c.name })), image_labels: [] };
  const notes: string[] = [];
  for (const file of files.filter((f) => f.kind === 'tags')) {
    const doc = parseTags(file);
    const names = new Map(doc.categories.map((c) => [c.id, c.name.toLowerCase()]));
    const photoIds = new Map<number, number>();
    for (const img of doc.images) {
      const open = match(img.file_name);
      if (!open || taken.has(open.file) || out.images.some((i) => i.file_name === open.file)) continue;
      photoIds.set(img.id, out.images.length + 1);
      out.images.push({ id: out.images.length + 1, file_name: open.file });
    }
    for (const l of doc.image_labels) {
      const image = photoIds.get(l.image_id);
      const category = ids.get(names.get(l.category_id) ?? '');
      if (image !== undefined && category !== undefined) out.image_labels.push({ image_id: image, category_id: category });
    }
    notes.push(`${file.fileName}: ${photoIds.size} tagged photos open here`);
  }
  return { doc: out.images.length > 0 ? out : undefined, notes };
}

function parseTags(file: TrainingFile): TagsDocument {
  let raw: Partial<TagsDocument>;
  try {
    raw = JSON.parse(file.text);
  } catch (err) {
    throw new ApiError(`${file.fileName}: not JSON (${(err as Error).message})`);
  }
  const ok = raw && Array.isArray(raw.images) && Array.isArray(raw.categories) && Array.isArray(raw.image_labels);
  if (!ok) throw new ApiError(`${file.fileName}: not a tags file: it needs "images" (id, file_name), "categories" (id, name) and "image_labels" (image_id, category_id)`);
  return raw as TagsDocument;
}

/** The COCO document train reads: the photos by absolute path, the chosen categories with the workspace's ids and names. */
export function trainingCoco(photos: readonly TrainingPhoto[], categories: readonly Category[]) {
  const chosen = new Set(categories.map((c) => c.id));
  const images = photos.map((p, i) => ({ id: i + 1, file_name: p.file, width: p.width, height: p.height }));
  let next = 1;
  const annotations = photos.flatMap((p, i) =>
    p.boxes
      .filter((b) => chosen.has(b.categoryId))
      .map((b) => ({ id: next++, image_id: i + 1, category_id: b.categoryId, bbox: roundBbox(b.bbox), area: Math.round(b.bbox[2] * b.bbox[3] * 100) / 100, iscrowd: 0 })),
  );
  return { info: { description: 'reviewed photos of a Fashion Detect workspace' }, images, annotations, categories: categories.map((c) => ({ id: c.id, name: c.name, supercategory: c.supercategory })) };
}
