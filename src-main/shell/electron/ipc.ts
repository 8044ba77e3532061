// What the IPC handlers do, without Electron: every call is checked (its sender, its method name and
// its input against the contract) before the service runs, and paths reach the service only when the
// person chose them in a native dialog or dropped them on the window. Nothing here imports electron.
import { z } from 'zod';
import { apiMethods, handleApiCall, type ApiHandlers, type ApiResult } from '../../contract/api.js';
import type { IpcMain } from './electron-api.js';
import type { OpenedFiles } from './file-access.js';
import { isTrustedSender } from './security.js';

/** renderer -> main, invoke: (method, input) -> ApiResult. */
export const API_CHANNEL = 'api';
/** main -> renderer: ApiEvent. */
export const EVENT_CHANNEL = 'api-event';
/** renderer (preload) -> main, send: absolute paths of files dropped on the window. */
export const DROP_CHANNEL = 'dropped-paths';
/** main -> renderer: a menu command (MenuCommand). */
export const MENU_CHANNEL = 'menu-command';

/** Menu commands the window carries out with its own state (its filters, its undo history). */
export const MENU_COMMANDS = ['open-images', 'open-folder', 'import-coco', 'export-coco', 'undo', 'redo'] as const;
export type MenuCommand = (typeof MENU_COMMANDS)[number];

const refused = (message: string): ApiResult => ({ ok: false, error: { code: 'failed', message } });

/**
 * One `ipcMain.handle(API_CHANNEL, ...)` call. Calls from anywhere but the app's page are refused;
 * unknown methods and input outside the schema never reach the service (handleApiCall); openPaths
 * is answered only for paths the person chose or dropped.
 */
export async function answerApiCall(
  service: ApiHandlers,
  grants: OpenedFiles,
  senderUrl: string | undefined,
  args: unknown[],
): Promise<ApiResult> {
  if (!isTrustedSender(senderUrl)) return refused('refused: the call did not come from the app page');
  if (args.length < 1 || args.length > 2) {
    return { ok: false, error: { code: 'bad-input', message: `expected (method, input), got ${args.length} argument${args.length === 1 ? '' : 's'}` } };
  }
  const [method, input] = args;
  if (method === 'openPaths') {
    const parsed = apiMethods.openPaths.input.safeParse(input ?? {});
    if (parsed.success) {
      for (const p of parsed.data.paths) {
        const chosen = await grants.resolve(p, { allowFolders: true });
        if (!chosen.ok) {
          return { ok: false, error: { code: 'bad-input', message: `openPaths: ${p} was not chosen in a dialog or dropped on the window (${chosen.reason})` } };
        }
      }
    }
    // Bad input falls through to handleApiCall, which words the schema's complaint.
  }
  return handleApiCall(service, method, input);
}

const droppedPathsSchema = z.array(z.string().min(1).max(4096)).max(100_000);

/**
 * The preload reports the paths of files dropped on the window (webUtils.getPathForFile, which the
 * page cannot forge: a File the page made itself has no path). They become granted, so the
 * openPaths call that follows is answered. Returns how many were granted.
 */
export function acceptDroppedPaths(grants: OpenedFiles, senderUrl: string | undefined, raw: unknown): number {
  if (!isTrustedSender(senderUrl)) return 0;
  const parsed = droppedPathsSchema.safeParse(raw);
  if (!parsed.success) return 0;
  // One gone since the drop, or unreadable, is left out: openPaths will report it.
  return grants.grantAll(parsed.data.filter((p) => !p.includes('\0'))).length;
}

/** The only two channels the page may invoke; each handler checks its sender and its arguments. */
export function registerIpcHandlers(ipcMain: IpcMain, service: ApiHandlers, grants: OpenedFiles): void {
  ipcMain.handle(API_CHANNEL, (event, ...args) => answerApiCall(service, grants, event.senderFrame?.url, args));
  ipcMain.handle(DROP_CHANNEL, (event, paths) => acceptDroppedPaths(grants, event.senderFrame?.url, paths));
}
