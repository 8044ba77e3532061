// What both transports serve, as one function from a request's method and URL path to a response:
// the built renderer (renderer-files.ts) and the workspace's pictures by id (/media/<kind>/<id>, the
// same paths over HTTP and the desktop app's scheme). Photos never cross by path: the service only
// has ids for images the person opened. Electron's protocol.handle and the browser build's HTTP
// server each adapt the result; what only one transport has (IPC, the API over HTTP, uploads, the
// caller checks) stays with it.
import fs from 'node:fs';
import { parseMediaPath, type MediaBytes, type MediaKind } from '../../contract/api.js';
import { contentTypeOf } from './content-types.js';
import { resolveRendererAsset } from './renderer-files.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** A response before a transport sends it; every one carries SECURITY_HEADERS. */
export interface AppResponse {
  status: number;
  headers: Record<string, string>;
  /** null for HEAD. */
  body: Uint8Array | null;
}

export interface AppContent {
  /** The built renderer (dist/renderer). */
  rendererDir: string;
  /** The service's pictures by id; undefined when there is no such picture. */
  media: (kind: MediaKind, id: string) => Promise<MediaBytes | undefined>;
}

/** Vite names the files under assets/ by their content, so they never change under one name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

function respond(status: number, headers: Record<string, string>, body: Uint8Array | null): AppResponse {
  return { status, headers: { ...SECURITY_HEADERS, ...headers }, body };
}

/** A short plain-text answer (errors, refusals). */
export function textResponse(status: number, message: string): AppResponse {
  const body = Buffer.from(`${message}\n`, 'utf8');
  return respond(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length), 'Cache-Control': 'no-store' }, body);
}

/** `attachment` with the name twice: plain ASCII for old clients, UTF-8 (RFC 6266) for the rest. */
function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^A-Za-z0-9._-]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

async function serveMedia(content: AppContent, pathname: string, head: boolean): Promise<AppResponse> {
  const media = parseMediaPath(pathname);
  if (!media) return textResponse(404, 'a media URL is /media/<thumbnail|display|export>/<id>');
  let found: MediaBytes | undefined;
  try {
    found = await content.media(media.kind, media.id);
  } catch (err) {
    return textResponse(422, `could not read ${media.kind} ${media.id}: ${(err as Error).message}`);
  }
  if (!found) return textResponse(404, `no ${media.kind} ${media.id} in this workspace`);
  // no-cache: an id keeps its name when its photo is replaced (the same upload name, new bytes).
  const headers: Record<string, string> = { 'Content-Type': found.mimeType, 'Content-Length': String(found.bytes.byteLength), 'Cache-Control': 'no-cache' };
  if (found.fileName) headers['Content-Disposition'] = attachment(found.fileName);
  return respond(200, headers, head ? null : found.bytes);
}

async function serveRendererFile(content: AppContent, pathname: string, head: boolean): Promise<AppResponse> {
  const resolution = await resolveRendererAsset(content.rendererDir, pathname);
  if (!resolution.ok) return textResponse(resolution.status, resolution.reason);
  const body = head ? null : await fs.promises.readFile(resolution.file);
  const size = body ? body.length : (await fs.promises.stat(resolution.file)).size;
  const cache = pathname.startsWith('/assets/') ? IMMUTABLE : 'no-cache';
  return respond(200, { 'Content-Type': contentTypeOf(resolution.file), 'Content-Length': String(size), 'Cache-Control': cache }, body);
}

/**
 * The answer to a GET or HEAD of `pathname` (the URL's path, still percent-encoded): a picture under
 * /media/, else a file of the renderer. Other methods are refused; nothing here writes.
 */
export async function serveAppRequest(content: AppContent, method: string, pathname: string): Promise<AppResponse> {
  if (method !== 'GET' && method !== 'HEAD') return textResponse(405, 'only GET and HEAD are served');
  const head = method === 'HEAD';
  try {
    if (pathname.startsWith('/media/')) return await serveMedia(content, pathname, head);
    return await serveRendererFile(content, pathname, head);
  } catch (err) {
    return textResponse(500, `could not read it: ${(err as Error).message}`);
  }
}
