// The app's own scheme (fashion-detect://app/...): the built renderer, and the pictures of the
// workspace by id (/media/<kind>/<id>, the same paths the browser build serves over HTTP). Photos
// never cross by path: the service only has ids for images the person opened. A plain function
// from a web Request to a Response, so it runs under Electron's protocol.handle and in tests alike.
// Nothing here imports electron.
import fs from 'node:fs';
import path from 'node:path';
import { mediaPath, parseMediaPath, type MediaBytes, type MediaKind } from '../../contract/api.js';
import { resolveRendererAsset, type Resolution } from './file-access.js';
import { APP_HOST, APP_SCHEME, SECURITY_HEADERS } from './security.js';

/** The URL of a thumbnail, display copy or export in the desktop app (the bridge's mediaUrl). */
export function mediaUrl(kind: MediaKind, id: string): string {
  return `${APP_SCHEME}://${APP_HOST}${mediaPath(kind, id)}`;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.heic': 'image/heic',
  '.heif': 'image/heif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function withSecurityHeaders(init: Record<string, string>): Headers {
  return new Headers({ ...SECURITY_HEADERS, ...init });
}

export function textResponse(status: number, message: string): Response {
  return new Response(`${message}\n`, { status, headers: withSecurityHeaders({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }) });
}

async function fileResponse(resolution: Resolution, method: string, cache: string): Promise<Response> {
  if (!resolution.ok) return textResponse(resolution.status, resolution.reason);
  const body = method === 'HEAD' ? null : await fs.promises.readFile(resolution.file);
  const size = body ? body.length : (await fs.promises.stat(resolution.file)).size;
  return new Response(body, {
    status: 200,
    headers: withSecurityHeaders({ 'Content-Type': contentTypeOf(resolution.file), 'Content-Length': String(size), 'Cache-Control': cache }),
  });
}

export interface AppProtocolOptions {
  /** The built renderer (dist/renderer). */
  rendererDir: string;
  /** The service's pictures by id; undefined when there is no such picture. */
  media: (kind: MediaKind, id: string) => Promise<MediaBytes | undefined>;
}

function mediaResponse(found: MediaBytes, method: string): Response {
  const headers: Record<string, string> = { 'Content-Type': found.mimeType, 'Content-Length': String(found.bytes.byteLength), 'Cache-Control': 'no-cache' };
  if (found.fileName) headers['Content-Disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(found.fileName)}`;
  return new Response(method === 'HEAD' ? null : new Uint8Array(found.bytes), { status: 200, headers: withSecurityHeaders(headers) });
}

/** The handler Electron's protocol.handle(APP_SCHEME, ...) calls for every request of the scheme. */
export function createAppProtocolHandler(options: AppProtocolOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return textResponse(400, 'not a valid URL');
    }
    if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return textResponse(404, 'not found');
    if (request.method !== 'GET' && request.method !== 'HEAD') return textResponse(405, 'only GET and HEAD are served');
    try {
      if (url.pathname.startsWith('/media/')) {
        const media = parseMediaPath(url.pathname);
        if (!media) return textResponse(400, 'a media URL is /media/<thumbnail|display|export>/<id>');
        const found = await options.media(media.kind, media.id);
        return found ? mediaResponse(found, request.method) : textResponse(404, `no ${media.kind} ${media.id}`);
      }
      return await fileResponse(await resolveRendererAsset(options.rendererDir, url.pathname), request.method, 'no-cache');
    } catch (err) {
      return textResponse(500, `could not read it: ${(err as Error).message}`);
    }
  };
}
