// Runs the compiled Electron main process (dist/main/shell/electron/main.js) against a fake `electron`
// module that records what main.js asks of Electron, then plays a short session through it and
// prints what happened as JSON. Used by main-process.test.ts where the Electron binary is absent.
//
//   node fake-electron-driver.cjs <userDataDir> <photoFolder> [--second-instance | --packaged <resourcesDir>]
'use strict';
const Module = require('node:module');
const path = require('node:path');
const { EventEmitter } = require('node:events');

const [userData, photoFolder] = process.argv.slice(2);
const secondInstance = process.argv.includes('--second-instance');
// As the installed app: app.isPackaged, and Electron's process.resourcesPath beside app.asar.
const packagedAt = process.argv.includes('--packaged') ? process.argv[process.argv.indexOf('--packaged') + 1] : undefined;
if (packagedAt) process.resourcesPath = packagedAt;
// The app to run: this repository, or FD_APP_ROOT (a packaged app's files, unpacked from its asar).
const repo = process.env.FD_APP_ROOT ? path.resolve(process.env.FD_APP_ROOT) : path.resolve(__dirname, '../..');

const record = {
  privilegedSchemes: null,
  singleInstanceLockRequested: false,
  quitCalls: 0,
  windows: [],
  loadedUrls: [],
  protocolSchemes: [],
  ipcChannels: [],
  permissionRequest: {},
  permissionCheck: {},
  beforeRequestFilter: null,
  cancelled: {},
  navigation: {},
  windowOpen: null,
  webviewPrevented: false,
  menuLabels: [],
  sentToWindow: [],
  apiResults: {},
  protocolResponses: {},
  windowStateSaved: false,
  quitPrevented: false,
};

const app = new EventEmitter();
Object.assign(app, {
  isPackaged: Boolean(packagedAt),
  name: 'Electron',
  setName(name) {
    this.name = name;
  },
  getPath: (name) => (name === 'userData' ? record.userDataSetTo ?? userData : path.join(userData, name)),
  setPath(name, value) {
    if (name !== 'userData') throw new Error(`setPath(${name}) is not expected`);
    record.userDataSetTo = value;
  },
  getVersion: () => '0.0.0-test',
  requestSingleInstanceLock() {
    record.singleInstanceLockRequested = true;
    return !secondInstance;
  },
  whenReady: () => Promise.resolve(),
  quit() {
    record.quitCalls++;
    const event = { defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
    this.emit('before-quit', event);
    if (event.defaultPrevented) record.quitPrevented = true;
  },
  exit(code) {
    record.exitCode = code;
  },
});

function makeContents() {
  const contents = new EventEmitter();
  contents.id = 1;
  contents.send = (channel, ...args) => record.sentToWindow.push({ channel, args });
  contents.setWindowOpenHandler = (handler) => (contents.windowOpenHandler = handler);
  contents.isDestroyed = () => false;
  contents.getURL = () => record.loadedUrls.at(-1);
  return contents;
}

class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    record.windows.push(options);
    windowInstances.push(this);
    this.options = options;
    this.webContents = makeContents();
    app.emit('web-contents-created', {}, this.webContents);
  }
  async loadURL(url) {
    record.loadedUrls.push(url);
  }
  show() {}
  focus() {
    record.focused = true;
  }
  restore() {}
  maximize() {}
  setFullScreen() {}
  isMinimized() {
    return false;
  }
  isMaximized() {
    return false;
  }
  isFullScreen() {
    return false;
  }
  isDestroyed() {
    return false;
  }
  getNormalBounds() {
    return { x: 40, y: 30, width: 1111, height: 777 };
  }
  setTitle() {}
  static getAllWindows() {
    return [];
  }
}

const windowInstances = [];
const ipcHandlers = new Map();
const protocolHandlers = new Map();
let menuTemplate = null;
const sessionHandlers = {};

const fakeElectron = {
  app,
  BrowserWindow,
  dialog: {
    async showOpenDialog(_win, options) {
      record.lastDialog = options.title;
      return { canceled: false, filePaths: [photoFolder] };
    },
    async showSaveDialog() {
      return { canceled: true };
    },
    showErrorBox(title, content) {
      record.errorBox = `${title}: ${content}`;
    },
    async showMessageBox() {
      return { response: 0 };
    },
  },
  ipcMain: {
    handle(channel, listener) {
      record.ipcChannels.push(channel);
      ipcHandlers.set(channel, listener);
    },
  },
  Menu: {
    buildFromTemplate(template) {
      menuTemplate = template;
      return template;
    },
    setApplicationMenu() {},
  },
  protocol: {
    registerSchemesAsPrivileged(schemes) {
      record.privilegedSchemes = schemes;
    },
    handle(scheme, handler) {
      record.protocolSchemes.push(scheme);
      protocolHandlers.set(scheme, handler);
    },
  },
  screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
  session: {
    defaultSession: {
      setPermissionRequestHandler: (h) => (sessionHandlers.request = h),
      setPermissionCheckHandler: (h) => (sessionHandlers.check = h),
      webRequest: {
        onBeforeRequest(filter, listener) {
          record.beforeRequestFilter = filter;
          sessionHandlers.beforeRequest = listener;
        },
      },
    },
  },
};

const originalLoad = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === 'electron') return fakeElectron;
  return originalLoad.call(this, request, parent, isMain);
};

const APP = 'fashion-detect://app/index.html';
const call = (channel, senderUrl, ...args) => ipcHandlers.get(channel)({ senderFrame: senderUrl ? { url: senderUrl } : null }, ...args);
const waitFor = async (check, what, ms = 120_000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

async function session() {
  // The app puts its data (and the models trained in it) in FASHION_DETECT_USER_DATA: here, the test's folder.
  process.env.FASHION_DETECT_USER_DATA = userData;
  require(path.join(repo, 'dist/main/shell/electron/main.js'));
  if (secondInstance) {
    await new Promise((r) => setTimeout(r, 200));
    return;
  }
  if (packagedAt) {
    await waitFor(() => ipcHandlers.size > 0, 'the IPC handlers');
    record.modelsEnv = process.env.FASHION_DETECT_MODELS;
    const workspace = await call('api', APP, 'getWorkspace', {});
    record.model = workspace.ok ? workspace.value.model : workspace;
    record.devTools = record.windows[0].webPreferences.devTools;
    record.preload = record.windows[0].webPreferences.preload;
    if (process.argv.includes('--label')) {
      // Label the photo folder, as the installed app would: a dialog, then the worker threads.
      record.openFolder = await call('api', APP, 'openFolderDialog', {});
      const done = () => record.sentToWindow.filter((m) => m.channel === 'api-event' && m.args[0].type === 'image' && ['done', 'failed'].includes(m.args[0].image.state));
      await waitFor(() => done().length >= 1, 'a labelled image');
      record.labelledState = done()[0].args[0].image.state;
      record.labelledReason = done()[0].args[0].image.reason;
      const page = await protocolHandlers.get('fashion-detect')(new Request('fashion-detect://app/'));
      record.rendererStatus = page.status;
      // Quitting waits for the service to save and stop its workers, then quits for real.
      app.quit();
      await waitFor(() => record.quitCalls >= 2, 'the quit after the service closed', 60_000);
    }
    record.menuHasDevTools = JSON.stringify(menuTemplate).includes('toggleDevTools');
    return;
  }
  await waitFor(() => record.windows.length === 1 && ipcHandlers.size > 0, 'the window');

  // Navigation, new windows, webviews: every web-contents gets the policy.
  const wc = makeContents();
  app.emit('web-contents-created', {}, wc);
  for (const url of [APP, 'https://example.com/', 'file:///etc/passwd', 'fashion-detect://evil/']) {
    for (const name of ['will-navigate', 'will-redirect', 'will-frame-navigate']) {
      let prevented = false;
      wc.emit(name, { url, preventDefault: () => (prevented = true) }, url);
      record.navigation[`${name} ${url}`] = prevented;
    }
  }
  record.windowOpen = wc.windowOpenHandler({ url: 'https://example.com/' });
  wc.emit('will-attach-webview', { preventDefault: () => (record.webviewPrevented = true) });

  // Permissions and requests.
  for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-sanitized-write']) {
    await new Promise((resolve) =>
      sessionHandlers.request(wc, permission, (granted) => resolve((record.permissionRequest[permission] = granted)), { requestingUrl: APP }),
    );
    record.permissionCheck[permission] = sessionHandlers.check(wc, permission, 'fashion-detect://app');
  }
  for (const url of ['https://example.com/a.js', 'http://127.0.0.1:5178/', 'file:///etc/passwd']) {
    sessionHandlers.beforeRequest({ url }, (response) => (record.cancelled[url] = response.cancel));
  }

  // The app scheme.
  const handler = protocolHandlers.get('fashion-detect');
  for (const url of ['fashion-detect://app/', 'fashion-detect://app/media/display/i999', 'fashion-detect://app/%2e%2e/%2e%2e/package.json']) {
    const res = await handler(new Request(url));
    record.protocolResponses[url] = { status: res.status, csp: res.headers.get('content-security-policy') };
  }

  // IPC: bad calls, a good one, the menu, a dialog, detection.
  record.apiResults.badInput = await call('api', APP, 'getImage', { id: '../../etc/passwd' });
  record.apiResults.unknown = await call('api', APP, 'readFile', { path: '/etc/passwd' });
  record.apiResults.foreignSender = await call('api', 'https://example.com/', 'getWorkspace', {});
  record.apiResults.ungrantedPath = await call('api', APP, 'openPaths', { paths: [photoFolder] });
  const workspace = await call('api', APP, 'getWorkspace', {});
  record.apiResults.workspaceOk = workspace.ok;
  record.apiResults.features = workspace.ok ? workspace.value.features : null;

  const items = [];
  const walk = (t) => t.forEach((i) => (items.push(i), i.submenu && walk(i.submenu)));
  walk(menuTemplate);
  record.menuLabels = items.filter((i) => i.label).map((i) => i.label);
  items.find((i) => i.id === 'open-folder').click();
  items.find((i) => i.id === 'undo').click();

  record.apiResults.openFolder = await call('api', APP, 'openFolderDialog', {});
  record.apiResults.grantedPath = await call('api', APP, 'openPaths', { paths: [photoFolder] });
  // The folder's photos are labelled by the service's worker threads; the window gets events.
  const done = () => record.sentToWindow.filter((m) => m.channel === 'api-event' && m.args[0].type === 'image' && m.args[0].image.state === 'done');
  await waitFor(() => done().length >= 1, 'a labelled image');
  const detail = await call('api', APP, 'getImage', { id: done()[0].args[0].image.id });
  record.apiResults.labelled = detail.ok ? { state: detail.value.state, boxes: detail.value.boxes.length } : detail;
  const thumbnail = await handler(new Request(`fashion-detect://app/media/thumbnail/${done()[0].args[0].image.id}`));
  record.protocolResponses.thumbnail = { status: thumbnail.status, type: thumbnail.headers.get('content-type'), bytes: (await thumbnail.arrayBuffer()).byteLength };

  // A second launch focuses this window instead of opening another.
  app.emit('second-instance', {}, ['electron', '.', '--flag'], userData);
  record.windowCount = windowInstances.length;
  // Closing the window saves its size and place.
  windowInstances[0].emit('close');
}

session()
  .then(async () => {
    if (!secondInstance && !packagedAt) {
      // The 'close' event of the window saves its state.
      record.windowStateSaved = require('node:fs').existsSync(path.join(userData, 'window-state.json'));
      app.quit();
      await waitFor(() => record.quitCalls >= 2, 'the quit after the service closed', 60_000);
    }
    record.menuCommandsSent = record.sentToWindow.filter((m) => m.channel === 'menu-command').map((m) => m.args[0]);
    record.eventTypes = [...new Set(record.sentToWindow.filter((m) => m.channel === 'api-event').map((m) => m.args[0].type))].sort();
    delete record.sentToWindow;
    process.stdout.write(`${JSON.stringify(record)}\n`);
    process.exit(0);
  })
  .catch((err) => {
    process.stderr.write(`driver: ${err.stack}\n`);
    process.exit(1);
  });
