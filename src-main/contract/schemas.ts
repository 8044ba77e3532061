// The contract's building blocks: what an image, a box, the workspace, an export... look like when
// they cross between the renderer and the main side. Shared with the renderer: zod only.
import { z } from 'zod';
import { trainingStatusSchema } from './models.js';

// ---------------------------------------------------------------------------------------------
// Building blocks

/** Ids the service gives images ("i1", "i2", ...) and boxes (any short token, the renderer may make new ones). */
export const imageIdSchema = z.string().regex(/^i[0-9]{1,9}$/, 'an image id looks like "i12"');
export const boxIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a box id is 1 to 64 letters, digits, "_" or "-"');

const finite = z.number().finite();

/** [x, y, width, height] in upright pixels of the original picture (EXIF orientation applied). */
export const bboxSchema = z.tuple([finite, finite, finite.nonnegative(), finite.nonnegative()]);

export const boxSchema = z.object({
  id: boxIdSchema,
  categoryId: z.number().int().positive(),
  /** The model's score; a box a person drew has score 1. */
  score: z.number().min(0).max(1),
  bbox: bboxSchema,
  /** A person touched this box (moved, resized, re-categorised or drew it): it is kept in exports. */
  verified: z.boolean(),
});

export const imageStateSchema = z.enum(['pending', 'labelling', 'done', 'failed']);

/** One row of the image list: small, since a workspace may hold 10,000 of them. */
export const imageSummarySchema = z.object({
  id: imageIdSchema,
  /** Path relative to the workspace's folder, with "/" (the file name for loose images). */
  name: z.string(),
  state: imageStateSchema,
  /** Why labelling failed, in words a person can act on. */
  reason: z.string().optional(),
  /** Boxes in this image (all of them, whatever the filters). */
  count: z.number().int().nonnegative(),
  /** Upright size once known (after labelling or reading the header). */
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  /** The model that labelled it, "id@version", where known. */
  model: z.string().optional(),
});

export const imageDetailSchema = imageSummarySchema.extend({
  boxes: z.array(boxSchema),
  /** Bumped on every change, so a late reply cannot overwrite newer boxes in the renderer. */
  revision: z.number().int().nonnegative(),
});

export const categorySchema = z.object({
  id: z.number().int().positive(),
  name: z.string(),
  supercategory: z.string(),
  /** A CSS colour for this category's boxes. */
  colour: z.string(),
});

export const saveLocationSchema = z.enum(['beside-images', 'app-data']);

export const saveInfoSchema = z.object({
  location: saveLocationSchema,
  /** Where the project is written (a path on the main side, shown to the person). */
  file: z.string().nullable(),
  /** ISO time of the last write that reached the disk (project or journal). */
  savedAt: z.string().nullable(),
  /** Changes not yet on disk (normally 0 within a fraction of a second). */
  unsaved: z.number().int().nonnegative(),
  /** Every change up to this number (see updateBoxes' `change`) is on disk. */
  savedThrough: z.number().int().nonnegative(),
});

export const batchProgressSchema = z.object({
  running: z.boolean(),
  done: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  imagesPerSecond: z.number().nonnegative(),
  /** Seconds left at the current rate; null while unknown. */
  etaSeconds: z.number().nonnegative().nullable(),
  cancelled: z.boolean(),
});

export const workspaceSchema = z.object({
  /** The folder the work belongs to (first folder opened, or the folder of the first images). */
  home: z.string().nullable(),
  images: z.array(imageSummarySchema),
  /** The photo last shown in the window for this folder (saved with the work): where the window starts again. */
  viewedImageId: imageIdSchema.nullable(),
  categories: z.array(categorySchema),
  /** defaultMinScore: where the window's confidence slider starts for this model. */
  model: z.object({ id: z.string(), name: z.string(), version: z.string(), defaultMinScore: z.number().min(0).max(1) }),
  save: saveInfoSchema,
  batch: batchProgressSchema,
  /** Photos another model labelled that nobody reviewed: what "Relabel" would label again with this one. */
  relabelable: z.number().int().nonnegative(),
  /** The training started from the window (running, or the last one and how it ended), or null. */
  training: trainingStatusSchema.nullable(),
  /** Which transport-specific features work: dialogs in the desktop app, uploads in the browser build. */
  features: z.object({ dialogs: z.boolean(), uploads: z.boolean() }),
});

export const problemSchema = z.object({ file: z.string(), reason: z.string() });

export const openResultSchema = z.object({
  added: z.number().int().nonnegative(),
  /** Already in the workspace, so not added twice. */
  alreadyOpen: z.number().int().nonnegative(),
  /** Open already, but uploaded again with other content under the same name: its boxes were cleared and it is labelled again. */
  replaced: z.number().int().nonnegative(),
  /** Work restored from a saved project (images with boxes or state). */
  restored: z.number().int().nonnegative(),
  /** Images of the workspace still to label and not queued (a big set waits for Label all, also after a crash). */
  waiting: z.number().int().nonnegative(),
  problems: z.array(problemSchema),
  /** True when the person closed the dialog without choosing. */
  cancelled: z.boolean(),
});

/** What an export keeps. The renderer passes its category checkboxes and confidence slider. */
export const exportFilterSchema = z.object({
  /** Only boxes of these categories; all when absent. */
  categoryIds: z.array(z.number().int().positive()).max(1000).optional(),
  /** Boxes below this score are left out, except verified ones (a person kept them). */
  minScore: z.number().min(0).max(1).default(0),
  /** Only boxes a person verified. */
  verifiedOnly: z.boolean().default(false),
  /** Of each group of near-duplicate photos, only the one kept ("Keep this one", else the largest). */
  leaveOutNearDuplicates: z.boolean().default(false),
});

export const exportFormatSchema = z.enum(['coco', 'yolo', 'voc']);

export const exportResultSchema = z.object({
  cancelled: z.boolean(),
  format: exportFormatSchema,
  /** Where it was written: the COCO file, or the folder of YOLO/VOC files. */
  target: z.string().nullable(),
  images: z.number().int().nonnegative(),
  annotations: z.number().int().nonnegative(),
  /** Labelled photos not in it: with verifiedOnly, those not (fully) reviewed. */
  leftOut: z.number().int().nonnegative(),
  /** Near-duplicates left out (leaveOutNearDuplicates); absent without it. */
  nearDuplicatesLeftOut: z.number().int().nonnegative().optional(),
  /** For the browser build: a media id under kind "export" to download the COCO file or a YOLO/VOC listing. */
  downloadId: z.string().nullable(),
  fileName: z.string().nullable(),
});

export const importResultSchema = z.object({
  cancelled: z.boolean(),
  /** Images of the COCO file that matched an open image by file name. */
  matched: z.number().int().nonnegative(),
  /** Images of the COCO file with no open image of that name. */
  unmatched: z.number().int().nonnegative(),
  annotations: z.number().int().nonnegative(),
  problems: z.array(z.string()),
});

export const statisticsSchema = z.object({
  images: z.number().int().nonnegative(),
  labelled: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** Photos reviewed at minScore: what an export of verified boxes only would hold. */
  reviewed: z.number().int().nonnegative(),
  /** Boxes per category over the whole set, at or above minScore (verified boxes always count). */
  perCategory: z.array(z.object({ categoryId: z.number().int().positive(), count: z.number().int().nonnegative() })),
  /** Boxes per image at or above minScore (verified boxes always count), for the image list; images with none are left out. */
  perImage: z.record(imageIdSchema, z.number().int().positive()),
  /** Of those, the boxes no person has verified yet, per image: the photos still to review. */
  unverifiedPerImage: z.record(imageIdSchema, z.number().int().positive()),
});

/** A relative name of an uploaded file: "a/b/photo.jpg", no "..", no absolute path, no hidden parts. */
export const uploadNameSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((n) => !n.includes('\0') && !n.includes('\\'), 'the name contains characters that are not allowed')
  .refine((n) => !n.startsWith('/') && !/^[A-Za-z]:/.test(n), 'the name must be relative')
  .refine((n) => n.split('/').every((part) => part !== '' && part !== '.' && part !== '..' && !part.startsWith('.')), 'the name has empty, "." , ".." or hidden parts');


export type Box = z.infer<typeof boxSchema>;
export type BBox = z.infer<typeof bboxSchema>;
export type ImageState = z.infer<typeof imageStateSchema>;
export type ImageSummary = z.infer<typeof imageSummarySchema>;
export type ImageDetail = z.infer<typeof imageDetailSchema>;
export type CategoryInfo = z.infer<typeof categorySchema>;
export type SaveLocation = z.infer<typeof saveLocationSchema>;
export type SaveInfo = z.infer<typeof saveInfoSchema>;
export type BatchProgress = z.infer<typeof batchProgressSchema>;
export type Workspace = z.infer<typeof workspaceSchema>;
export type OpenResult = z.infer<typeof openResultSchema>;
export type ExportFilter = z.output<typeof exportFilterSchema>;
export type ExportFormat = z.infer<typeof exportFormatSchema>;
export type ExportResult = z.infer<typeof exportResultSchema>;
export type ImportResult = z.infer<typeof importResultSchema>;
export type Statistics = z.infer<typeof statisticsSchema>;
export type Problem = z.infer<typeof problemSchema>;

