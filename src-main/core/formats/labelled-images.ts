// Labelled photos as every data format takes them, in shapes of their own (a format depends on
// neither the detector nor the app's contract), and what an export keeps of them.
import path from 'node:path';

/** One box on a photo. */
export interface LabelBox {
  categoryId: number;
  score: number;
  /** [x, y, width, height] in upright pixels of the photo. */
  bbox: readonly number[];
  /** Whether a person verified it; absent where nobody could have (the command line's labels). */
  verified?: boolean;
}

export interface LabelledImage {
  /** Relative to the labelled folder, with "/" (an absolute path for a photo outside it). */
  name: string;
  width: number;
  height: number;
  boxes: readonly LabelBox[];
  /** The model whose boxes these are ("id@version"), where known. */
  labelledBy?: string;
}

/** What an export keeps: the app maps its window's filter to this. */
export interface BoxFilter {
  /** Only boxes of these categories; all when absent. */
  categoryIds?: readonly number[];
  /** Boxes below this score are left out, except verified ones (a person kept them). */
  minScore: number;
  /** Only boxes a person verified, on photos a person reviewed (see isReviewed). */
  verifiedOnly: boolean;
}

/** A file of an export made of several files (YOLO, VOC). */
export interface ExportFile {
  /** Relative to the export folder, with "/". */
  name: string;
  content: string;
}

/** The files of an export, and how many boxes they hold. */
export interface ExportFiles {
  files: ExportFile[];
  annotations: number;
}

/** A box shown at a minimum score: scored at it or above, or one a person touched (verified). */
export function atMinScore(box: Pick<LabelBox, 'score' | 'verified'>, minScore: number): boolean {
  return box.verified === true || box.score >= minScore;
}

/** Whether a box goes into an export: checked category, and a score at the slider or a person's word for it. */
export function keepsBox(box: LabelBox, filter: BoxFilter): boolean {
  if (filter.categoryIds && !filter.categoryIds.includes(box.categoryId)) return false;
  if (filter.verifiedOnly && !box.verified) return false;
  return atMinScore(box, filter.minScore);
}

/**
 * Whether a photo goes into a verified-only export: a person verified its boxes (one at least), and
 * left none unverified that the filter would show. A photo not reviewed, or reviewed only in part, is
 * left out: listed without the boxes nobody looked at, it would teach a model those items are not there.
 */
export function isReviewed(image: { boxes: readonly LabelBox[] }, filter: BoxFilter): boolean {
  const shown = { ...filter, verifiedOnly: false };
  let verified = 0;
  for (const box of image.boxes) {
    if (!keepsBox(box, shown)) continue;
    if (!box.verified) return false;
    verified++;
  }
  return verified > 0;
}

/** The photos an export lists, in name order: all of them, or with verifiedOnly those reviewed. */
export function exportedImages<T extends LabelledImage>(images: readonly T[], filter?: BoxFilter): T[] {
  return images.filter((image) => !filter?.verifiedOnly || isReviewed(image, filter)).sort((a, b) => compareNames(a.name, b.name));
}

/** A photo of an export with the boxes it keeps, each clipped to the picture. */
export interface ExportedImage {
  image: LabelledImage;
  boxes: { box: LabelBox; bbox: [number, number, number, number] }[];
}

/**
 * The photos an export lists with the boxes that pass the filter (every box without one), clipped,
 * empty boxes dropped.
 */
export function exportedBoxes(images: readonly LabelledImage[], filter?: BoxFilter): ExportedImage[] {
  return exportedImages(images, filter).map((image) => {
    const boxes: ExportedImage['boxes'] = [];
    for (const box of image.boxes) {
      if (filter && !keepsBox(box, filter)) continue;
      const bbox = clipBox(box.bbox, image.width, image.height);
      if (bbox[2] <= 0 || bbox[3] <= 0) continue;
      boxes.push({ box, bbox });
    }
    return { image, boxes };
  });
}

export function clipBox(b: readonly number[], width: number, height: number): [number, number, number, number] {
  const x1 = Math.min(Math.max(b[0], 0), width);
  const y1 = Math.min(Math.max(b[1], 0), height);
  const x2 = Math.min(Math.max(b[0] + b[2], 0), width);
  const y2 = Math.min(Math.max(b[1] + b[3], 0), height);
  return [round2(x1), round2(y1), round2(x2 - x1), round2(y2 - y1)];
}

export const round2 = (v: number) => Math.round(v * 100) / 100;

/** Code-point order, the same on every machine and locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Absolute names (photos outside the labelled folder) become their file name, so exports stay inside their folder. */
export const exportName = (name: string) => (name.startsWith('/') || /^[A-Za-z]:/.test(name) ? path.posix.basename(name.replace(/\\/g, '/')) : name);

export const withExtension = (name: string, ext: string) => {
  const dot = name.lastIndexOf('.');
  const slash = name.lastIndexOf('/');
  return (dot > slash ? name.slice(0, dot) : name) + ext;
};
