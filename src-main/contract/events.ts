// What the main side pushes to the window as it happens (IPC 'api-event' in Electron, Server-Sent
// Events at /api/events), and the binary things the window fetches by id. Shared with the renderer.
import { z } from 'zod';
import { hashingProgressSchema } from './dataset.js';
import { evaluationProgressSchema, trainingStatusSchema } from './models.js';
import { batchProgressSchema, imageSummarySchema, saveInfoSchema } from './schemas.js';

export const apiEventSchema = z.discriminatedUnion('type', [
  /** Batch progress, at most a few times a second, and once when it ends. */
  z.object({ type: z.literal('progress'), batch: batchProgressSchema }),
  /** One image's state or boxes changed (labelled, failed, edited, imported). */
  z.object({ type: z.literal('image'), image: imageSummarySchema, revision: z.number().int().nonnegative() }),
  /** Images were added or removed: fetch the workspace again. */
  z.object({ type: z.literal('workspace') }),
  /** Work reached the disk. */
  z.object({ type: z.literal('saved'), save: saveInfoSchema }),
  /** Something failed in the background (saving, the detector); shown to the person. */
  z.object({ type: z.literal('error'), message: z.string() }),
  /** A training's progress, at most a few times a second, and when it ends. */
  z.object({ type: z.literal('training'), training: trainingStatusSchema }),
  /** An evaluation's progress (photos run through the model). */
  z.object({ type: z.literal('evaluation'), progress: evaluationProgressSchema }),
  /** The installed models changed (one trained or added): fetch the list again. */
  z.object({ type: z.literal('models') }),
  /** Photos without a perceptual hash being hashed, for the near-duplicates (dataset.ts). */
  z.object({ type: z.literal('hashing'), progress: hashingProgressSchema }),
]);
export type ApiEvent = z.infer<typeof apiEventSchema>;

/** Binary things the renderer shows, fetched by id through the transport's mediaUrl(kind, id). */
export const mediaKindSchema = z.enum(['thumbnail', 'display', 'export', 'plot']);
export type MediaKind = z.infer<typeof mediaKindSchema>;
export const mediaIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

export interface MediaBytes {
  bytes: Uint8Array;
  mimeType: string;
  /** For downloads (kind "export"). */
  fileName?: string;
}

