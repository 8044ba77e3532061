// The Electron main process's entry: what must happen before the app is ready (the models' place in
// the installed app, the profile, the app scheme's privileges), then the single-instance lock; the
// app itself starts in app.ts.
import path from 'node:path';
import { userDataDir } from '../../core/base/user-data.js';
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
// One data folder for the window's state, settings, thumbnails and saved work and for the models
// trained in the app, which the command line finds there too: FASHION_DETECT_USER_DATA where set (a
// separate profile for tests or a portable copy), else the platform's folder for "fashion-detect".
app.setPath('userData', userDataDir());
// Before ready: the app's scheme gets an origin and a secure context.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { ...APP_SCHEME_PRIVILEGES } }]);

if (!app.requestSingleInstanceLock()) {
  // Another window is already open: it receives our arguments (second-instance) and comes forward.
  app.quit();
} else {
  void startApp(electron);
}
