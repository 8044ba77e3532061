// The app's own scheme (fashion-detect://app/...): Electron's protocol.handle gets a web Request and
// wants a Response; what is served (the renderer, the pictures by id, the headers) is the same as
// over HTTP (common/app-requests.ts). Nothing here imports electron.
import { mediaPath, type MediaKind } from '../../contract/api.js';
import { serveAppRequest, textResponse, type AppContent, type AppResponse } from '../common/app-requests.js';
import { APP_HOST, APP_SCHEME } from './security.js';

/** The URL of a thumbnail, display copy or export in the desktop app (the bridge's mediaUrl). */
export function mediaUrl(kind: MediaKind, id: string): string {
  return `${APP_SCHEME}://${APP_HOST}${mediaPath(kind, id)}`;
}

function toWebResponse(response: AppResponse): Response {
  // Typed for an ArrayBuffer-backed view; a Buffer's bytes are one (a SharedArrayBuffer never gets here).
  return new Response(response.body as Uint8Array<ArrayBuffer> | null, { status: response.status, headers: new Headers(response.headers) });
}

/** The handler Electron's protocol.handle(APP_SCHEME, ...) calls for every request of the scheme. */
export function createAppProtocolHandler(content: AppContent): (request: Request) => Promise<Response> {
  return async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return toWebResponse(textResponse(400, 'not a valid URL'));
    }
    if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return toWebResponse(textResponse(404, 'not found'));
    return toWebResponse(await serveAppRequest(content, request.method, url.pathname));
  };
}
