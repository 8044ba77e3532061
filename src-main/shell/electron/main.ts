// The Electron main process's entry: what must happen before the app is ready (the models' place in
// the installed app, the profile, the app scheme's privileges), then the single-instance lock; the
// app itself starts in app.ts.
import path from 'node:path';
import { APP_NAME, startApp } from './app.js';
import type { ElectronMain } from './electron-api.js';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES } from './security.js';

const electron = require('electron') as ElectronMain;
const { app, protocol } = electron;

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
  void startApp(electron);
}
