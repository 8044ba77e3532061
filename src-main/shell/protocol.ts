// The app's own scheme (fashion-detect://app/...): the built renderer, and the photos the person
// opened. A plain function from a web Request to a Response, so it runs under Electron's
// protocol.handle and in tests alike. Nothing here imports electron.
import fs from 'node:fs';
import path from 'node:path';
import { resolveRendererAsset, type OpenedFiles, type Resolution } from './file-access.js';
import { APP_HOST, APP_SCHEME, SECURITY_HEADERS } from './security.js';

/** Route for a file the person opened: /opened-file?path=<absolute path, URL-encoded>. */
export const OPENED_FILE_ROUTE = '/opened-file';

/** The URL under which the renderer reads an opened file. */
export function openedFileUrl(file: string): string {
  return `${APP_SCHEME}://${APP_HOST}${OPENED_FILE_ROUTE}?path=${encodeURIComponent(file)}`;
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
  /** The files and folders the person opened. */
  openedFiles: OpenedFiles;
  /**
   * Other app routes (for example the contract's image and thumbnail routes), tried before the
   * renderer's files; undefined when the route is not theirs.
   */
  routes?: (request: Request, url: URL) => Promise<Response | undefined>;
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
    try {
      if (url.pathname === OPENED_FILE_ROUTE) {
        if (request.method !== 'GET' && request.method !== 'HEAD') return textResponse(405, 'only GET and HEAD are served');
        const requested = url.searchParams.get('path');
        if (requested === null) return textResponse(400, 'the path parameter is missing');
        // Each photo is read fresh: it may change on disk while the app is open.
        return await fileResponse(await options.openedFiles.resolve(requested), request.method, 'no-cache');
      }
      const routed = await options.routes?.(request, url);
      if (routed) {
        const headers = new Headers(routed.headers);
        for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!headers.has(name)) headers.set(name, value);
        return new Response(routed.body, { status: routed.status, headers });
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') return textResponse(405, 'only GET and HEAD are served');
      return await fileResponse(await resolveRendererAsset(options.rendererDir, url.pathname), request.method, 'no-cache');
    } catch (err) {
      return textResponse(500, `could not read the file: ${(err as Error).message}`);
    }
  };
}
