// The desktop app once it may start (main.ts holds the single-instance lock): the workspace service,
// the session's policies, the app's scheme, IPC, the menu, the window and the app's life around it.
// Detection runs in the service's worker threads, so this thread (and the window) never waits on it.
import path from 'node:path';
import type { ApiEvent } from '../../contract/api.js';
import { WorkspaceService } from '../../workspace/service.js';
import { checkedEvent } from '../common/events.js';
import { pathsFromArgv } from './command-line.js';
import { createDialogHost } from './dialogs.js';
import type { ElectronMain } from './electron-api.js';
import { OpenedFiles } from './file-access.js';
import { EVENT_CHANNEL, MENU_CHANNEL, answerApiCall, registerIpcHandlers } from './ipc.js';
import { keepOneWindow, quitAfterClosing } from './lifecycle.js';
import { MainWindow } from './main-window.js';
import { installMenu } from './menu.js';
import { OpenRequests } from './open-requests.js';
import { createAppProtocolHandler } from './protocol.js';
import { APP_ENTRY_URL, APP_SCHEME } from './security.js';
import { lockDownSessions } from './session-policy.js';

export const APP_NAME = 'Fashion Detect';
/** dist/main/shell/electron -> the repository (or app.asar) root. */
const appRoot = path.resolve(__dirname, '../../../..');
const rendererDir = path.join(appRoot, 'dist/renderer');
const preloadPath = path.join(__dirname, '../preload/preload.js');
const iconPath = path.join(appRoot, 'build/icon.png');

/** Opens paths the person gave the app (command line, Dock, a second launch): they become readable first. */
async function openGivenPaths(service: WorkspaceService, grants: OpenedFiles, paths: string[], sendEvent: (event: ApiEvent) => void): Promise<void> {
  const granted = grants.grantAll(paths);
  if (granted.length === 0) return;
  const result = await answerApiCall(service, grants, APP_ENTRY_URL, ['openPaths', { paths: granted }]);
  if (!result.ok) sendEvent({ type: 'error', message: result.error.message });
}

/** The service, or undefined when it cannot start (the person is told, and the app exits). */
function startService(electron: ElectronMain, grants: OpenedFiles, mainWindow: MainWindow, sendEvent: (event: ApiEvent) => void): WorkspaceService | undefined {
  const { app, dialog } = electron;
  try {
    return new WorkspaceService({
      dataDir: app.getPath('userData'),
      dialogs: createDialogHost(dialog, () => mainWindow.current, grants),
      emit: sendEvent,
      // The service checks openPaths against the grants too (the IPC handler already did).
      allowPath: (p) => grants.isGranted(p),
    });
  } catch (err) {
    dialog.showErrorBox(`${APP_NAME} cannot start`, (err as Error).message);
    app.exit(1);
    return undefined;
  }
}

export async function startApp(electron: ElectronMain): Promise<void> {
  const { app } = electron;
  const devTools = !app.isPackaged;
  const grants = new OpenedFiles();
  const requests = new OpenRequests(pathsFromArgv(process.argv, process.cwd(), app.isPackaged));
  const mainWindow = new MainWindow({
    electron,
    appName: APP_NAME,
    preloadPath,
    iconPath,
    devTools,
    stateFile: () => path.join(app.getPath('userData'), 'window-state.json'),
    onPageLoaded: () => requests.pageLoaded(),
  });
  const sendEvent = (event: ApiEvent) => {
    const checked = checkedEvent(event);
    if (checked) mainWindow.send(EVENT_CHANNEL, checked);
  };
  // macOS: files dropped on the Dock icon or opened with the app; the first may come before ready.
  app.on('open-file', (event, file) => {
    event.preventDefault();
    requests.add([file], mainWindow.current !== undefined);
  });

  await app.whenReady();
  const service = startService(electron, grants, mainWindow, sendEvent);
  if (!service) return;
  // Load the model in the worker threads while the window opens, so the first photo is not kept waiting.
  service.warmUp();

  lockDownSessions(app, electron.session.defaultSession);
  electron.protocol.handle(APP_SCHEME, createAppProtocolHandler({ rendererDir, media: (kind, id) => service.media(kind, id) }));
  registerIpcHandlers(electron.ipcMain, service, grants);
  installMenu(electron.Menu, (command) => mainWindow.send(MENU_CHANNEL, command), { platform: process.platform, appName: APP_NAME, devTools });
  requests.ready((paths) => openGivenPaths(service, grants, paths, sendEvent));
  keepOneWindow(app, mainWindow, requests);
  // Pending edits reach the disk and the detector workers stop before the process ends.
  quitAfterClosing(app, () => service.close());
  mainWindow.open();
}
