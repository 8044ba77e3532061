// The one contract between the renderer and the main side. Everything that crosses (Electron IPC or
// HTTP) is a method named here, with its input checked against a zod schema before any code runs,
// and events the main side pushes back. Images never cross by path: the renderer names an image by
// its id and asks its transport for a media URL (see MediaKind).
//
// This file is shared with the renderer (types only there), so it imports nothing from Node.
import { z } from 'zod';

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

const pathSchema = z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'the path contains a NUL character');
const empty = z.object({}).strict();

// ---------------------------------------------------------------------------------------------
// Methods: name -> input and output schemas

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
  /** Labels every pending image, with progress events. */
  labelAll: { input: empty, output: z.object({ queued: z.number().int().nonnegative() }) },
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

// ---------------------------------------------------------------------------------------------
// Events: main -> renderer, pushed as they happen (IPC 'api-event' in Electron, SSE at /api/events)

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
]);
export type ApiEvent = z.infer<typeof apiEventSchema>;

/** Binary things the renderer shows, fetched by id through the transport's mediaUrl(kind, id). */
export const mediaKindSchema = z.enum(['thumbnail', 'display', 'export']);
export type MediaKind = z.infer<typeof mediaKindSchema>;
export const mediaIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

export interface MediaBytes {
  bytes: Uint8Array;
  mimeType: string;
  /** For downloads (kind "export"). */
  fileName?: string;
}

// ---------------------------------------------------------------------------------------------
// The service side

/** What implements the contract: one async function per method, given validated input. */
export type ApiHandlers = { [M in ApiMethod]: (input: ApiParsedInput<M>) => Promise<ApiOutput<M>> };

/** The service behind both transports: the methods, media by id, and an event stream. */
export interface ApiService extends ApiHandlers {
  /** Bytes for a thumbnail, a display copy or an export by id; undefined when there is no such thing. */
  media(kind: MediaKind, id: string): Promise<MediaBytes | undefined>;
}

/** What crosses back: a value, or an error with a code the renderer can act on. Never a thrown Error over IPC. */
export type ApiResult<T = unknown> = { ok: true; value: T } | { ok: false; error: { code: ApiErrorCode; message: string } };
export type ApiErrorCode = 'unknown-method' | 'bad-input' | 'failed';

/** A failure the service reports to the person as it is (its message is written for them). */
export class ApiError extends Error {
  override name = 'ApiError';
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`)
    .join('; ');
}

/**
 * The one entry point of both transports (ipcMain.handle('api', (e, m, i) => handleApiCall(service, m, i))
 * and POST /api/<method>): checks the method name and the input against the contract, calls the
 * service, and returns an ApiResult. Unknown methods and bad input never reach the service.
 */
export async function handleApiCall(service: ApiHandlers, method: unknown, input: unknown): Promise<ApiResult> {
  if (!isApiMethod(method)) {
    return { ok: false, error: { code: 'unknown-method', message: `unknown method ${JSON.stringify(String(method)).slice(0, 80)}` } };
  }
  const parsed = apiMethods[method].input.safeParse(input ?? {});
  if (!parsed.success) {
    return { ok: false, error: { code: 'bad-input', message: `${method}: ${describeIssues(parsed.error)}` } };
  }
  try {
    const handler = service[method] as (input: unknown) => Promise<unknown>;
    const value = await handler.call(service, parsed.data);
    return { ok: true, value };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, error: { code: 'failed', message } };
  }
}

/** The events a window may receive, checked (used by tests and by the shell before forwarding). */
export function parseApiEvent(event: unknown): ApiEvent {
  return apiEventSchema.parse(event);
}

// ---------------------------------------------------------------------------------------------
// What the desktop shell gives the service (the browser build passes none of these)

export interface DialogHost {
  /** Native "Open images" dialog; [] when cancelled. */
  chooseImages(): Promise<string[]>;
  /** Native "Open folder" dialog; null when cancelled. */
  chooseFolder(): Promise<string | null>;
  /** Save dialog for an export: a file for COCO, a folder for YOLO/VOC; null when cancelled. */
  chooseExportTarget(format: ExportFormat, suggestedName: string): Promise<string | null>;
  /** Open dialog for a COCO file to import; null when cancelled. */
  chooseCocoFile(): Promise<string | null>;
}

/**
 * The transport the preload exposes as window.fashionDetect in the desktop app (the renderer's
 * HTTP transport has the same shape). Kept here so the preload and the renderer agree.
 */
export interface RendererBridge {
  invoke(method: ApiMethod, input: unknown): Promise<ApiResult>;
  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
  /** URL of a thumbnail, display image or export by id (fashion-detect://app/media/<kind>/<id> in the desktop app). */
  mediaUrl(kind: MediaKind, id: string): string;
  /** Paths of dropped File objects (webUtils.getPathForFile); the shell records them as granted. */
  pathsForFiles(files: File[]): string[];
}

/** The path part of a media URL, the same for HTTP and the desktop app's scheme: /media/<kind>/<id>. */
export function mediaPath(kind: MediaKind, id: string): string {
  return `/media/${kind}/${encodeURIComponent(id)}`;
}

/** Reads kind and id back from a media URL's path; undefined for anything else. */
export function parseMediaPath(pathname: string): { kind: MediaKind; id: string } | undefined {
  const match = /^\/media\/([a-z]+)\/([A-Za-z0-9_-]{1,64})$/.exec(pathname);
  if (!match) return undefined;
  const kind = mediaKindSchema.safeParse(match[1]);
  return kind.success ? { kind: kind.data, id: match[2] } : undefined;
}
