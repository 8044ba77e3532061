// The one contract between the renderer and the main side. Everything that crosses (Electron IPC or
// HTTP) is a method named in methods.ts, with its input checked against a zod schema before any code
// runs, and events the main side pushes back (events.ts). Images never cross by path: the renderer
// names an image by its id and asks its transport for a media URL (see MediaKind).
//
//   schemas.ts   images, boxes, the workspace, exports: the building blocks
//   models.ts    models, training and evaluation
//   dataset.ts   clean data sets: near-duplicates, unusual boxes, a split export
//   methods.ts   the methods, name -> input and output
//   events.ts    events and media
//   api.ts       the entry point of both transports, and what the shells give the service
//
// Shared with the renderer (types only there), so none of it imports anything from Node.
import type { z } from 'zod';
import { apiEventSchema, mediaKindSchema, type ApiEvent, type MediaBytes, type MediaKind } from './events.js';
import { apiMethods, isApiMethod, type ApiMethod, type ApiOutput, type ApiParsedInput } from './methods.js';
import type { ExportFormat } from './schemas.js';

export * from './dataset.js';
export * from './events.js';
export * from './methods.js';
export * from './models.js';
export * from './schemas.js';

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
  /** "Add model folder…": a folder holding an Ultralytics tfjs export (or a model folder of ours); null when cancelled. */
  chooseModelFolder(): Promise<string | null>;
  /** A folder for a split export's train.json and val.json; null when cancelled. Absent: the split export says it needs one. */
  chooseSplitFolder?(suggestedName: string): Promise<string | null>;
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
