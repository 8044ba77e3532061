// The Electron main process: one window on the app's own scheme, the menu and native dialogs, IPC
// that only validates (ipc.ts) and calls the workspace service, and a single-instance lock.
// Detection runs in the service's worker threads, so this thread (and the window) never waits on it.
import fs from 'node:fs';
import path from 'node:path';
import { parseApiEvent, type ApiEvent, type DialogHost, type ExportFormat } from '../../contract/api.js';
import { IMAGE_EXTENSIONS } from '../../core/images/decode.js';
import { WorkspaceService } from '../../workspace/service.js';
import type { BrowserWindow, ElectronMain, WebContents } from './electron-api.js';
import { pathsFromArgv } from './command-line.js';
import { OpenedFiles } from './file-access.js';
import { API_CHANNEL, DROP_CHANNEL, EVENT_CHANNEL, MENU_CHANNEL, acceptDroppedPaths, answerApiCall, type MenuCommand } from './ipc.js';
import { buildMenuTemplate } from './menu.js';
import { createAppProtocolHandler } from './protocol.js';
import {
  APP_ENTRY_URL,
  APP_SCHEME,
  APP_SCHEME_PRIVILEGES,
  isNavigationAllowed,
  isPermissionAllowed,
  isRequestAllowed,
  secureWebPreferences,
  windowOpenPolicy,
} from './security.js';
import { MIN_HEIGHT, MIN_WIDTH, loadWindowState, saveWindowState } from './window-state.js';

const electron = require('electron') as ElectronMain;
const { app, BrowserWindow: BrowserWindowClass, dialog, ipcMain, Menu, protocol, screen, session } = electron;

const APP_NAME = 'Fashion Detect';
/** dist/main/shell/electron -> the repository (or app.asar) root. */
const appRoot = path.resolve(__dirname, '../../../..');
const rendererDir = path.join(appRoot, 'dist/renderer');
const preloadPath = path.join(__dirname, '../preload/preload.js');
const iconPath = path.join(appRoot, 'build/icon.png');

// The packaged app carries its models beside app.asar (electron.config.ts, extraResources).
if (app.isPackaged && !process.env.FASHION_DETECT_MODELS) {
  process.env.FASHION_DETECT_MODELS = path.join((process as NodeJS.Process & { resourcesPath: string }).resourcesPath, 'models');
}

app.setName(APP_NAME);
// A separate profile (window state, settings, thumbnails, saved work) for tests or a portable copy.
if (process.env.FASHION_DETECT_USER_DATA) app.setPath('userData', path.resolve(process.env.FASHION_DETECT_USER_DATA));
// Before ready: the app's scheme gets an origin and a secure context.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { ...APP_SCHEME_PRIVILEGES } }]);

if (!app.requestSingleInstanceLock()) {
  // Another window is already open: it receives our arguments (second-instance) and comes forward.
  app.quit();
} else {
  void main();
}

async function main(): Promise<void> {
  const grants = new OpenedFiles();
  let window: BrowserWindow | undefined;
  const pendingPaths: string[] = pathsFromArgv(process.argv, process.cwd(), app.isPackaged);
  const stateFile = () => path.join(app.getPath('userData'), 'window-state.json');

  const grant = (paths: string[]) =>
    paths.filter((p) => {
      try {
        grants.grant(p);
        return true;
      } catch {
        return false;
      }
    });

  // Native dialogs for the service; what the person chooses becomes readable by the renderer.
  const dialogs: DialogHost = {
    async chooseImages() {
      if (!window) return [];
      const extensions = [...IMAGE_EXTENSIONS].map((e) => e.replace(/^\./, ''));
      const r = await dialog.showOpenDialog(window, { title: 'Open Images', properties: ['openFile', 'multiSelections'], filters: [{ name: 'Images', extensions }, { name: 'All files', extensions: ['*'] }] });
      return r.canceled ? [] : grant(r.filePaths);
    },
    async chooseFolder() {
      if (!window) return null;
      const r = await dialog.showOpenDialog(window, { title: 'Open Folder', properties: ['openDirectory'] });
      return r.canceled || r.filePaths.length === 0 ? null : (grant(r.filePaths.slice(0, 1))[0] ?? null);
    },
    async chooseCocoFile() {
      if (!window) return null;
      const r = await dialog.showOpenDialog(window, { title: 'Import COCO', properties: ['openFile'], filters: [{ name: 'COCO JSON', extensions: ['json'] }] });
      return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
    },
    async chooseExportTarget(format: ExportFormat, suggestedName: string) {
      if (!window) return null;
      if (format === 'coco') {
        const r = await dialog.showSaveDialog(window, { title: 'Export COCO', defaultPath: suggestedName, filters: [{ name: 'COCO JSON', extensions: ['json'] }], properties: ['createDirectory', 'showOverwriteConfirmation'] });
        return r.canceled || !r.filePath ? null : r.filePath;
      }
      const r = await dialog.showOpenDialog(window, { title: `Export ${format.toUpperCase()} into a folder`, buttonLabel: 'Export here', properties: ['openDirectory', 'createDirectory'] });
      return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
    },
  };

  const sendEvent = (event: ApiEvent) => {
    let checked: ApiEvent;
    try {
      checked = parseApiEvent(event);
    } catch (err) {
      console.error(`fashion-detect: an event outside the contract was not sent: ${(err as Error).message}`);
      return;
    }
    if (window && !window.isDestroyed()) window.webContents.send(EVENT_CHANNEL, checked);
  };

  // macOS: files dropped on the Dock icon or opened with the app; the first may come before ready.
  let openNow: ((paths: string[]) => Promise<void>) | undefined;
  app.on('open-file', (event, file) => {
    event.preventDefault();
    if (openNow && window) void openNow([file]);
    else pendingPaths.push(file);
  });

  await app.whenReady();

  let service: WorkspaceService;
  try {
    // The service checks openPaths against the grants too (the IPC handler already did).
    service = new WorkspaceService({ dataDir: app.getPath('userData'), dialogs, emit: sendEvent, allowPath: (p) => grants.isGranted(p) });
  } catch (err) {
    dialog.showErrorBox(`${APP_NAME} cannot start`, (err as Error).message);
    app.exit(1);
    return;
  }
  // Load the model in the worker threads while the window opens, so the first photo is not kept waiting.
  service.warmUp();

  // Every window, frame and webview: no navigation away, no new windows, no webviews.
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => windowOpenPolicy());
    for (const name of ['will-navigate', 'will-redirect', 'will-frame-navigate'] as const) {
      contents.on(name, (event, url) => {
        if (!isNavigationAllowed(event.url ?? url)) event.preventDefault();
      });
    }
  });

  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, permission, callback, details) => callback(isPermissionAllowed(permission, details?.requestingUrl)));
  ses.setPermissionCheckHandler((_contents, permission, origin) => isPermissionAllowed(permission, origin));
  // No remote content: every request to the network or to file:// is cancelled (Chromium match
  // patterns; Electron throws on an invalid one, and a file: pattern has no host).
  ses.webRequest.onBeforeRequest({ urls: ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*', 'file:///*'] }, (details, callback) =>
    callback({ cancel: !isRequestAllowed(details.url) }),
  );
  protocol.handle(APP_SCHEME, createAppProtocolHandler({ rendererDir, media: (kind, id) => service.media(kind, id) }));

  ipcMain.handle(API_CHANNEL, (event, ...args) => answerApiCall(service, grants, event.senderFrame?.url, args));
  ipcMain.handle(DROP_CHANNEL, (event, paths) => acceptDroppedPaths(grants, event.senderFrame?.url, paths));

  const sendMenuCommand = (command: MenuCommand) => {
    if (window && !window.isDestroyed()) window.webContents.send(MENU_CHANNEL, command);
  };
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      buildMenuTemplate(
        {
          openImages: () => sendMenuCommand('open-images'),
          openFolder: () => sendMenuCommand('open-folder'),
          importCoco: () => sendMenuCommand('import-coco'),
          exportCoco: () => sendMenuCommand('export-coco'),
          undo: () => sendMenuCommand('undo'),
          redo: () => sendMenuCommand('redo'),
        },
        { platform: process.platform, appName: APP_NAME, devTools: !app.isPackaged },
      ),
    ),
  );

  const openPaths = async (paths: string[]) => {
    const granted = grant(paths);
    if (granted.length === 0) return;
    const result = await answerApiCall(service, grants, APP_ENTRY_URL, ['openPaths', { paths: granted }]);
    if (!result.ok) sendEvent({ type: 'error', message: result.error.message });
  };

  openNow = openPaths;

  function createWindow(): BrowserWindow {
    const state = loadWindowState(stateFile(), screen.getAllDisplays().map((d) => d.workArea));
    const win = new BrowserWindowClass({
      ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : {}),
      width: state.width,
      height: state.height,
      minWidth: MIN_WIDTH,
      minHeight: MIN_HEIGHT,
      show: false,
      title: APP_NAME,
      backgroundColor: '#1d1e2c',
      // The installers set the icon themselves; this one is for runs from the repository (Linux).
      ...(fs.existsSync(iconPath) ? { icon: iconPath } : {}),
      webPreferences: secureWebPreferences(preloadPath, { devTools: !app.isPackaged }),
    });
    win.once('ready-to-show', () => {
      if (state.maximized) win.maximize();
      if (state.fullScreen) win.setFullScreen(true);
      win.show();
    });
    const remember = () => {
      if (win.isDestroyed()) return;
      try {
        saveWindowState(stateFile(), win.getNormalBounds(), { maximized: win.isMaximized(), fullScreen: win.isFullScreen() });
      } catch (err) {
        console.error(`fashion-detect: could not remember the window's place: ${(err as Error).message}`);
      }
    };
    // Also a moment after each move or resize, so a crash does not lose the place.
    let rememberTimer: NodeJS.Timeout | undefined;
    const rememberSoon = () => {
      clearTimeout(rememberTimer);
      rememberTimer = setTimeout(remember, 1000);
    };
    win.on('resize', rememberSoon);
    win.on('move', rememberSoon);
    win.on('close', () => {
      clearTimeout(rememberTimer);
      remember();
    });
    win.webContents.on('did-finish-load', () => {
      const paths = pendingPaths.splice(0);
      if (paths.length > 0) void openPaths(paths);
    });
    // A crashed page is reloaded (the work lives in the service), but not in a loop.
    let reloads = 0;
    win.webContents.on('render-process-gone', (_event, details) => {
      if (details.reason === 'clean-exit' || win.isDestroyed()) return;
      console.error(`fashion-detect: the window's page stopped (${details.reason})`);
      if (++reloads <= 3) void win.loadURL(APP_ENTRY_URL);
      else dialog.showErrorBox(`${APP_NAME}: the window keeps stopping`, `Its page stopped ${reloads} times (last: ${details.reason}). Your work is saved; restart the app.`);
    });
    win.on('closed', () => {
      if (window === win) window = undefined;
    });
    void win.loadURL(APP_ENTRY_URL);
    return win;
  }

  app.on('second-instance', (_event, argv, workingDirectory) => {
    if (!window) window = createWindow();
    if (window.isMinimized()) window.restore();
    window.focus();
    const paths = pathsFromArgv(argv, workingDirectory, app.isPackaged);
    if (paths.length > 0) void openPaths(paths);
  });
  app.on('activate', () => {
    if (!window) window = createWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // Pending edits reach the disk and the detector workers stop before the process ends.
  let closed = false;
  let closing = false;
  app.on('before-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    if (closing) return;
    closing = true;
    // Saving is normally a matter of milliseconds; a stuck disk must not keep the app from quitting.
    let patience: NodeJS.Timeout | undefined;
    const tooLong = new Promise<void>((resolve) => {
      patience = setTimeout(() => {
        console.error('fashion-detect: the workspace did not close within 15 s; quitting anyway');
        resolve();
      }, 15_000);
    });
    const closedService = service.close().catch((err: Error) => console.error(`fashion-detect: closing the workspace: ${err.message}`));
    void Promise.race([closedService, tooLong]).finally(() => {
      clearTimeout(patience);
      closed = true;
      app.quit();
    });
  });

  window = createWindow();
}
