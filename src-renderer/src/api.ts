// The renderer's one way to the main side: a typed client over the contract, with two transports.
// In the desktop app the preload exposes window.fashionDetect (IPC); in the browser build the same
// calls go to the HTTP server (POST /api/<method>, events over Server-Sent Events).
import type { ApiEvent, ApiInput, ApiMethod, ApiOutput, ApiResult, MediaKind, RendererBridge } from '$contract/api';

export type * from '$contract/api';

type MenuCommand = 'open-images' | 'open-folder' | 'import-coco' | 'export-coco' | 'undo' | 'redo';
type DesktopBridge = RendererBridge & { onMenuCommand?(listener: (command: MenuCommand) => void): () => void };

declare global {
  interface Window {
    fashionDetect?: DesktopBridge;
  }
}

export class ApiCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

/** Header the HTTP server requires on calls and uploads (a cross-site page cannot send it). */
const CLIENT_HEADER = { 'x-fashion-detect': '1' };

function httpBridge(): RendererBridge {
  const listeners = new Set<(event: ApiEvent) => void>();
  let source: EventSource | undefined;
  const connect = () => {
    source = new EventSource('./api/events');
    source.onmessage = (message) => {
      let event: ApiEvent;
      try {
        event = JSON.parse(message.data) as ApiEvent;
      } catch {
        return;
      }
      for (const listener of listeners) listener(event);
    };
    // After a reconnect (the server restarted) the window fetches everything again.
    source.onopen = () => {
      for (const listener of listeners) listener({ type: 'workspace' });
    };
  };
  return {
    async invoke(method, input) {
      let response: Response;
      try {
        response = await fetch(`./api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...CLIENT_HEADER }, body: JSON.stringify(input ?? {}) });
      } catch {
        return { ok: false, error: { code: 'failed', message: 'the Fashion Detect server is not answering (was it stopped?)' } };
      }
      try {
        return (await response.json()) as ApiResult;
      } catch {
        return { ok: false, error: { code: 'failed', message: `the server answered ${response.status} ${response.statusText}` } };
      }
    },
    onEvent(listener) {
      listeners.add(listener);
      if (!source) connect();
      return () => listeners.delete(listener);
    },
    mediaUrl: (kind, id) => `./media/${kind}/${encodeURIComponent(id)}`,
    pathsForFiles: () => [],
  };
}

const desktop = typeof window !== 'undefined' ? window.fashionDetect : undefined;
const bridge: RendererBridge = desktop ?? httpBridge();

/** "desktop": paths and native dialogs; "browser": uploads and file pickers. */
export const transport: 'desktop' | 'browser' = desktop ? 'desktop' : 'browser';

export async function call<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiOutput<M>> {
  const result = await bridge.invoke(method, input);
  if (!result.ok) throw new ApiCallError(result.error.code, result.error.message);
  return result.value as ApiOutput<M>;
}

export const onEvent = (listener: (event: ApiEvent) => void) => bridge.onEvent(listener);
export const mediaUrl = (kind: MediaKind, id: string) => bridge.mediaUrl(kind, id);
export const pathsForFiles = (files: File[]) => bridge.pathsForFiles(files);
export const onMenuCommand = (listener: (command: MenuCommand) => void) => desktop?.onMenuCommand?.(listener) ?? (() => {});

/** Browser build: sends one file's bytes to the session's upload folder under its relative name. */
export async function uploadFile(name: string, file: Blob): Promise<void> {
  const response = await fetch(`./upload?name=${encodeURIComponent(name)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', ...CLIENT_HEADER }, body: file });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = ((await response.json()) as { error?: { message?: string } }).error?.message ?? message;
    } catch {
      // keep the status line
    }
    throw new Error(message);
  }
}
