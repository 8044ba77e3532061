// The preload: the only bridge between the sandboxed page and the main process. It exposes exactly
// the contract's RendererBridge as window.fashionDetect (no ipcRenderer, no Node.js, no channel
// names) and forwards only the app's channels.
//
// A sandboxed preload may require only 'electron' and a few Node built-ins (Electron 41 wraps it
// with require, process, exports and module), so this file imports the contract's types only, and
// its channel names and menu commands repeat those in electron/ipc.ts (tests/shell checks that they
// agree and that the compiled preload requires nothing else).
import type { ApiEvent, ApiResult, MediaKind, RendererBridge } from '../../contract/api.js';

/** What this preload takes from require('electron') (the sandboxed preload's subset, Electron 41). */
interface ElectronPreload {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  ipcRenderer: {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>;
    on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
    removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
  };
  webUtils: { getPathForFile(file: File): string };
}

const { contextBridge, ipcRenderer, webUtils } = require('electron') as ElectronPreload;

const API_CHANNEL = 'api';
const EVENT_CHANNEL = 'api-event';
const DROP_CHANNEL = 'dropped-paths';
const MENU_CHANNEL = 'menu-command';
const MEDIA_BASE = 'fashion-detect://app/media';
const MEDIA_KINDS: readonly string[] = ['thumbnail', 'display', 'export', 'plot'];
const MENU_COMMANDS = ['open-images', 'open-folder', 'import-coco', 'export-coco', 'undo', 'redo'] as const;
type MenuCommand = (typeof MENU_COMMANDS)[number];
const isMac = process.platform === 'darwin';
// The page's DOM (tsconfig has no DOM library: this is the one file of src-main that runs in a page).
const page = globalThis as unknown as { document: { dispatchEvent(event: unknown): boolean }; KeyboardEvent: new (type: string, init: object) => unknown };

const eventListeners = new Set<(event: ApiEvent) => void>();
const menuListeners = new Set<(command: MenuCommand) => void>();

ipcRenderer.on(EVENT_CHANNEL, (_event, payload) => {
  for (const listener of eventListeners) listener(payload as ApiEvent);
});

const invoke = (method: string, input: unknown): Promise<ApiResult> => ipcRenderer.invoke(API_CHANNEL, method, input) as Promise<ApiResult>;

/**
 * A menu command nobody in the page subscribed to: the menu still works. Dialog commands call
 * the API (the service shows the dialog and pushes a 'workspace' event), undo/redo become the
 * page's own keyboard shortcuts.
 */
function runMenuCommandDirectly(command: MenuCommand): void {
  const shortcut = (shift: boolean) =>
    page.document.dispatchEvent(new page.KeyboardEvent('keydown', { key: shift ? 'Z' : 'z', code: 'KeyZ', ctrlKey: !isMac, metaKey: isMac, shiftKey: shift, bubbles: true, cancelable: true }));
  if (command === 'open-images') void invoke('openImagesDialog', {});
  else if (command === 'open-folder') void invoke('openFolderDialog', {});
  else if (command === 'import-coco') void invoke('importCoco', {});
  else if (command === 'export-coco') void invoke('exportAnnotations', { format: 'coco', filter: {} });
  else if (command === 'undo') shortcut(false);
  else if (command === 'redo') shortcut(true);
}

ipcRenderer.on(MENU_CHANNEL, (_event, command) => {
  if (typeof command !== 'string' || !(MENU_COMMANDS as readonly string[]).includes(command)) return;
  if (menuListeners.size === 0) runMenuCommandDirectly(command as MenuCommand);
  else for (const listener of menuListeners) listener(command as MenuCommand);
});

const bridge: RendererBridge & { onMenuCommand(listener: (command: MenuCommand) => void): () => void } = {
  invoke: (method, input) => invoke(method, input),
  onEvent(listener) {
    if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
    eventListeners.add(listener);
    return () => {
      eventListeners.delete(listener);
    };
  },
  mediaUrl(kind: MediaKind, id: string) {
    if (!MEDIA_KINDS.includes(kind)) throw new TypeError(`unknown media kind ${String(kind)}`);
    return `${MEDIA_BASE}/${kind}/${encodeURIComponent(String(id))}`;
  },
  pathsForFiles(files) {
    // A File the page made itself has no path (''), so the page cannot name files it was not given.
    const paths = Array.from(files, (file) => webUtils.getPathForFile(file)).filter((p) => p !== '');
    if (paths.length > 0) ipcRenderer.invoke(DROP_CHANNEL, paths).catch(() => undefined);
    return paths;
  },
  /** Menu commands that need the page's state (its export filter, its undo history). */
  onMenuCommand(listener) {
    if (typeof listener !== 'function') throw new TypeError('onMenuCommand needs a function');
    menuListeners.add(listener);
    return () => {
      menuListeners.delete(listener);
    };
  },
};

contextBridge.exposeInMainWorld('fashionDetect', bridge);
