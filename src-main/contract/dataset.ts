// Clean data sets (issue 12) as the window sees them: near-duplicate photos and the one kept of each
// group, boxes that look wrong, and an export split into training and validation photos with every
// group of near-duplicates on one side. Shared with the renderer: zod only.
import { z } from 'zod';
import { boxIdSchema, exportFilterSchema, imageIdSchema } from './schemas.js';

const count = z.number().int().nonnegative();

/** A group of near-duplicates: "g" and the number of the group's first photo ("g12"); the same while the group is. */
export const groupIdSchema = z.string().regex(/^g[0-9]{1,9}$/, 'a group id looks like "g12"');

export const nearDuplicatesInputSchema = z
  .object({
    /** Most bits (of 128) in which two near-duplicates differ; the command line's default (20) when absent. */
    maxDistance: z.number().int().min(0).max(64).optional(),
    /** Whether a photo and its mirror image count as near-duplicates. */
    mirror: z.boolean().default(false),
    /**
     * Hash the photos that have no hash yet first (photos of projects saved before hashes were kept;
     * photos not labelled), with 'hashing' events. Without it, only the photos hashed already are grouped.
     */
    hashMissing: z.boolean().default(true),
  })
  .strict();

export const nearDuplicateGroupSchema = z.object({
  id: groupIdSchema,
  /** The photos, the one kept first (in exports that leave near-duplicates out, the only one), each with its distance in bits to the kept one. */
  images: z.array(z.object({ id: imageIdSchema, distance: z.number().int().min(0).max(128) })).min(2),
  /** Whether a person chose the kept one ("Keep this one"); else it is the one with the most pixels, then the largest file. */
  chosen: z.boolean(),
});

export const nearDuplicatesSchema = z.object({
  groups: z.array(nearDuplicateGroupSchema),
  /** Photos compared (hashed), and photos not: still to hash (see hashMissing), or unreadable. */
  hashed: count,
  unhashed: count,
  maxDistance: z.number().int().min(0).max(64),
  mirror: z.boolean(),
});

/** Hashing the photos that have no hash yet, a few times a second and when it ends. */
export const hashingProgressSchema = z.object({ running: z.boolean(), done: count, total: count });

/** Why a box looks wrong (core/lint's kinds that a workspace's boxes can have). */
export const unusualKindSchema = z.enum(['unusual-box', 'second-instance', 'tiny-box', 'stacked-boxes', 'invalid-box']);

export const unusualBoxSchema = z.object({
  imageId: imageIdSchema,
  boxId: boxIdSchema,
  kind: unusualKindSchema,
  /** In words: "unusually small for a dress", "second skirt in one photo". */
  message: z.string(),
  /** How suspicious: -log10 of how rarely a right box looks like this (3: one in a thousand); 100 for an empty box. */
  score: z.number().nonnegative(),
});

export const unusualBoxesSchema = z.object({
  /** Most suspicious first. */
  boxes: z.array(unusualBoxSchema),
  /** Labelled photos and boxes looked at (boxes at the slider; verified boxes always). */
  photos: count,
  checkedBoxes: count,
});

const splitPartSchema = z.object({
  images: count,
  annotations: count,
  /** For the browser build: a media id under kind "export" to download this part's COCO file. */
  downloadId: z.string().nullable(),
  fileName: z.string().nullable(),
});

export const exportSplitInputSchema = z
  .object({
    filter: exportFilterSchema,
    /** The share of the photos for validation. */
    val: z.number().gt(0).lt(1).default(0.15),
    /** The split is the same for the same photos and seed. */
    seed: z.number().int().min(0).max(2 ** 31).default(0),
  })
  .strict();

export const exportSplitResultSchema = z.object({
  cancelled: z.boolean(),
  /** The folder train.json and val.json were written to (the desktop app's choice, or the server's exports folder). */
  target: z.string().nullable(),
  train: splitPartSchema,
  val: splitPartSchema,
  /** Labelled photos not in it (with verifiedOnly, those not reviewed), and near-duplicates left out. */
  leftOut: count,
  nearDuplicatesLeftOut: count,
  /** Groups of near-duplicates among the exported photos: each lies whole in one part. */
  groups: count,
});

export type NearDuplicatesInput = z.input<typeof nearDuplicatesInputSchema>;
export type NearDuplicateGroup = z.infer<typeof nearDuplicateGroupSchema>;
export type NearDuplicates = z.infer<typeof nearDuplicatesSchema>;
export type HashingProgress = z.infer<typeof hashingProgressSchema>;
export type UnusualKind = z.infer<typeof unusualKindSchema>;
export type UnusualBox = z.infer<typeof unusualBoxSchema>;
export type UnusualBoxes = z.infer<typeof unusualBoxesSchema>;
export type ExportSplitResult = z.infer<typeof exportSplitResultSchema>;
