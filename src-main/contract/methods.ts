// The contract's methods: name -> input and output schemas. Every call from the window is one of
// these, its input checked before any code runs (handleApiCall in api.ts). Shared with the renderer.
import { z } from 'zod';
import {
  exportSplitInputSchema,
  exportSplitResultSchema,
  groupIdSchema,
  nearDuplicateGroupSchema,
  nearDuplicatesInputSchema,
  nearDuplicatesSchema,
  unusualBoxesSchema,
} from './dataset.js';
import {
  evaluationSchema,
  modelSummarySchema,
  trainingEstimateSchema,
  trainingRequestSchema,
  trainingStatusSchema,
} from './models.js';
import {
  boxSchema,
  exportFilterSchema,
  exportFormatSchema,
  exportResultSchema,
  imageDetailSchema,
  imageIdSchema,
  importResultSchema,
  openResultSchema,
  saveInfoSchema,
  saveLocationSchema,
  statisticsSchema,
  uploadNameSchema,
  workspaceSchema,
} from './schemas.js';

const pathSchema = z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'the path contains a NUL character');
const empty = z.object({}).strict();

export const apiMethods = {
  /** Everything the window needs to draw itself: images, categories, save state, batch progress. */
  getWorkspace: { input: empty, output: workspaceSchema },
  /** One image with its boxes. */
  getImage: { input: z.object({ id: imageIdSchema }).strict(), output: imageDetailSchema },
  /** The window shows this photo now: saved with the work, so reopening the folder comes back to it. */
  setViewedImage: { input: z.object({ id: imageIdSchema }).strict(), output: z.object({ viewedImageId: imageIdSchema }) },
  /**
   * Opens files and folders by path (a drop in the desktop app). Folders bring their images
   * recursively; a folder with saved work restores it. The desktop shell checks the paths came
   * from a drop or a dialog; the browser build refuses paths (it uploads instead).
   */
  openPaths: { input: z.object({ paths: z.array(pathSchema).min(1).max(100_000) }).strict(), output: openResultSchema },
  /** The desktop app's "Open images" and "Open folder": a native dialog, then as openPaths. */
  openImagesDialog: { input: empty, output: openResultSchema },
  openFolderDialog: { input: empty, output: openResultSchema },
  /**
   * The browser build: after the files were POSTed to /upload/<name>, adds them. `folder` names
   * the top folder when a folder was dropped or chosen, so its saved work is restored.
   */
  openUploads: { input: z.object({ names: z.array(uploadNameSchema).min(1).max(100_000) }).strict(), output: openResultSchema },
  /** Starts over with an empty workspace (the current work stays saved). */
  closeWorkspace: { input: empty, output: z.object({ closed: z.boolean() }) },
  /** Labels these images now (ahead of a running batch). */
  labelImages: { input: z.object({ ids: z.array(imageIdSchema).min(1).max(100_000) }).strict(), output: z.object({ queued: z.number().int().nonnegative() }) },
  /**
   * Labels every pending image, with progress events. `relabel`: also the photos another model labelled
   * that nobody reviewed (a person's verified boxes are never replaced).
   */
  labelAll: { input: z.object({ relabel: z.boolean().default(false) }).strict(), output: z.object({ queued: z.number().int().nonnegative() }) },
  /** Stops the batch: photos in progress finish, the rest stay pending. */
  cancelLabelling: { input: empty, output: z.object({ cancelled: z.number().int().nonnegative() }) },
  /**
   * Replaces an image's boxes (every edit, undo and redo sends the image's whole new box list, so
   * the last one sent wins); the reply carries the image's new revision.
   */
  updateBoxes: {
    input: z.object({ id: imageIdSchema, boxes: z.array(boxSchema).max(10_000) }).strict(),
    /** `change` numbers this edit: it is on disk once a saved event's savedThrough reaches it. */
    output: imageDetailSchema.extend({ change: z.number().int().positive() }),
  },
  /** Where the work is saved: next to the images (a hidden .fashion-detect folder) or in the app's data folder. */
  setSaveLocation: { input: z.object({ location: saveLocationSchema }).strict(), output: saveInfoSchema },
  /** Writes pending changes now (they are written within a second anyway). */
  saveNow: { input: empty, output: saveInfoSchema },
  getStatistics: { input: z.object({ minScore: z.number().min(0).max(1).default(0) }).strict(), output: statisticsSchema },
  /** Exports with a save dialog in the desktop app; the browser build downloads it (downloadId). */
  exportAnnotations: { input: z.object({ format: exportFormatSchema, filter: exportFilterSchema }).strict(), output: exportResultSchema },
  /**
   * Imports a COCO file to continue work on a labelled set: boxes go to open images of the same
   * file name. `text` is the file's content (browser build); without it the desktop app asks with a dialog.
   */
  importCoco: { input: z.object({ text: z.string().max(512 * 1024 * 1024).optional(), fileName: z.string().max(1024).optional() }).strict(), output: importResultSchema },
  /** Every installed model (built-in, trained in the app, added folders) and the one in use. */
  listModels: { input: empty, output: z.object({ models: z.array(modelSummarySchema), current: z.string() }) },
  /** Labels the photos labelled from now on with this model (its categories joined to the workspace's by name). */
  setModel: { input: z.object({ id: z.string().min(1).max(200) }).strict(), output: z.object({ model: modelSummarySchema, relabelable: z.number().int().nonnegative() }) },
  /** The desktop app's "Add model folder…": a native folder dialog for an Ultralytics export. */
  addModelFolder: { input: empty, output: z.object({ cancelled: z.boolean(), model: modelSummarySchema.nullable() }) },
  /** What "Train model" would learn from, how long it would take, or why it cannot start. */
  getTrainingEstimate: { input: z.object({ minScore: z.number().min(0).max(1).default(0) }).strict(), output: trainingEstimateSchema },
  /** Trains a model on the reviewed photos, off the window's thread; progress as 'training' events. The same request resumes a cancelled run. */
  startTraining: { input: trainingRequestSchema, output: trainingStatusSchema },
  /** Stops the training at its next step; its checkpoint is kept. */
  cancelTraining: { input: empty, output: trainingStatusSchema.nullable() },
  /** The model in use against the verified boxes of the reviewed photos it was not trained on; progress as 'evaluation' events. */
  evaluateModel: { input: z.object({ minScore: z.number().min(0).max(1) }).strict(), output: evaluationSchema },
  /** Groups of near-duplicate photos among the open ones, the kept one of each first (dataset.ts). */
  getNearDuplicates: { input: nearDuplicatesInputSchema, output: nearDuplicatesSchema },
  /**
   * Keeps this photo of a group: the others are left out of exports that leave near-duplicates out.
   * Saved with the work; the window's undo sends the previous choice back (`previous`).
   */
  keepNearDuplicate: {
    input: z.object({ groupId: groupIdSchema, imageId: imageIdSchema }).strict(),
    output: z.object({ group: nearDuplicateGroupSchema, previous: imageIdSchema }),
  },
  /** Boxes that look wrong for their category (size, place, a second one, a sliver), most suspicious first. */
  getUnusualBoxes: { input: z.object({ minScore: z.number().min(0).max(1).default(0) }).strict(), output: unusualBoxesSchema },
  /**
   * COCO files for training and validation, every group of near-duplicates on one side: into a folder
   * chosen in a dialog in the desktop app, two downloads in the browser build.
   */
  exportSplit: { input: exportSplitInputSchema, output: exportSplitResultSchema },
} as const;

export type ApiMethods = typeof apiMethods;
export type ApiMethod = keyof ApiMethods;
/** What a caller passes (defaults may be left out). */
export type ApiInput<M extends ApiMethod> = z.input<ApiMethods[M]['input']>;
/** What the service receives after validation (defaults filled in). */
export type ApiParsedInput<M extends ApiMethod> = z.output<ApiMethods[M]['input']>;
export type ApiOutput<M extends ApiMethod> = z.output<ApiMethods[M]['output']>;

export const apiMethodNames = Object.keys(apiMethods) as ApiMethod[];

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(apiMethods, name);
}

