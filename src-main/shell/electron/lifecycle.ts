// The app's life around its one window: a second launch brings the window forward (and opens what it
// was given), the Dock icon reopens it on macOS, closing the last window quits elsewhere, and quitting
// first lets the workspace write pending edits and stop its detector workers.
import type { App } from './electron-api.js';
import { pathsFromArgv } from './command-line.js';
import type { MainWindow } from './main-window.js';
import type { OpenRequests } from './open-requests.js';

/** Saving is normally a matter of milliseconds; a stuck disk must not keep the app from quitting. */
const CLOSE_PATIENCE_MS = 15_000;

export function keepOneWindow(app: App, mainWindow: MainWindow, requests: OpenRequests): void {
  app.on('second-instance', (_event, argv, workingDirectory) => {
    mainWindow.bringForward();
    requests.add(pathsFromArgv(argv, workingDirectory, app.isPackaged), true);
  });
  app.on('activate', () => {
    mainWindow.open();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}

/** The first quit waits for `closeWorkspace` (at most CLOSE_PATIENCE_MS), then quits for real. */
export function quitAfterClosing(app: App, closeWorkspace: () => Promise<void>): void {
  let closed = false;
  let closing = false;
  app.on('before-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    if (closing) return;
    closing = true;
    let patience: NodeJS.Timeout | undefined;
    const tooLong = new Promise<void>((resolve) => {
      patience = setTimeout(() => {
        console.error(`fashion-detect: the workspace did not close within ${CLOSE_PATIENCE_MS / 1000} s; quitting anyway`);
        resolve();
      }, CLOSE_PATIENCE_MS);
    });
    const closedWorkspace = closeWorkspace().catch((err: Error) => console.error(`fashion-detect: closing the workspace: ${err.message}`));
    void Promise.race([closedWorkspace, tooLong]).finally(() => {
      clearTimeout(patience);
      closed = true;
      app.quit();
    });
  });
}
