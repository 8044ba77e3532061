// The one main window: made on demand (at start, on the Dock icon, for a second launch), shown when
// its page is ready, its size and place remembered (window-state.ts), and its page reloaded if it
// crashes (the work lives in the service), but not in a loop.
import fs from 'node:fs';
import type { BrowserWindow, ElectronMain } from './electron-api.js';
import { APP_ENTRY_URL, secureWebPreferences } from './security.js';
import { MIN_HEIGHT, MIN_WIDTH, loadWindowState, saveWindowState } from './window-state.js';

export interface MainWindowOptions {
  electron: Pick<ElectronMain, 'BrowserWindow' | 'screen' | 'dialog'>;
  appName: string;
  preloadPath: string;
  /** The icon for runs from the repository (the installers set their own); used when it exists. */
  iconPath: string;
  devTools: boolean;
  /** window-state.json in the user-data folder (known once the app is ready). */
  stateFile: () => string;
  /** The page finished loading (the first time, and after a reload). */
  onPageLoaded: () => void;
}

/** Saves the window's place now, and a second after each move or resize, so a crash does not lose it. */
function rememberPlace(win: BrowserWindow, stateFile: () => string): void {
  const remember = () => {
    if (win.isDestroyed()) return;
    try {
      saveWindowState(stateFile(), win.getNormalBounds(), { maximized: win.isMaximized(), fullScreen: win.isFullScreen() });
    } catch (err) {
      console.error(`fashion-detect: could not remember the window's place: ${(err as Error).message}`);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const rememberSoon = () => {
    clearTimeout(timer);
    timer = setTimeout(remember, 1000);
  };
  win.on('resize', rememberSoon);
  win.on('move', rememberSoon);
  win.on('close', () => {
    clearTimeout(timer);
    remember();
  });
}

/** A crashed page is loaded again, up to three times; then the person is told to restart. */
function reloadWhenGone(win: BrowserWindow, options: MainWindowOptions): void {
  let reloads = 0;
  win.webContents.on('render-process-gone', (_event, details) => {
    if (details.reason === 'clean-exit' || win.isDestroyed()) return;
    console.error(`fashion-detect: the window's page stopped (${details.reason})`);
    if (++reloads <= 3) void win.loadURL(APP_ENTRY_URL);
    else {
      const message = `Its page stopped ${reloads} times (last: ${details.reason}). Your work is saved; restart the app.`;
      options.electron.dialog.showErrorBox(`${options.appName}: the window keeps stopping`, message);
    }
  });
}

export class MainWindow {
  private window: BrowserWindow | undefined;

  constructor(private readonly options: MainWindowOptions) {}

  /** The window, while it is open. */
  get current(): BrowserWindow | undefined {
    return this.window;
  }

  /** The window, made first when there is none. */
  open(): BrowserWindow {
    this.window ??= this.create();
    return this.window;
  }

  /** Another launch of the app: this window (made if need be) comes forward. */
  bringForward(): void {
    const win = this.open();
    if (win.isMinimized()) win.restore();
    win.focus();
  }

  /** A message to the page, when there is one to receive it. */
  send(channel: string, payload: unknown): void {
    if (this.window && !this.window.isDestroyed()) this.window.webContents.send(channel, payload);
  }

  private create(): BrowserWindow {
    const { electron, stateFile } = this.options;
    const state = loadWindowState(stateFile(), electron.screen.getAllDisplays().map((d) => d.workArea));
    const win = new electron.BrowserWindow({
      ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : {}),
      width: state.width,
      height: state.height,
      minWidth: MIN_WIDTH,
      minHeight: MIN_HEIGHT,
      show: false,
      title: this.options.appName,
      backgroundColor: '#1d1e2c',
      ...(fs.existsSync(this.options.iconPath) ? { icon: this.options.iconPath } : {}),
      webPreferences: secureWebPreferences(this.options.preloadPath, { devTools: this.options.devTools }),
    });
    // Shown when its page is ready, so there is no white flash.
    win.once('ready-to-show', () => {
      if (state.maximized) win.maximize();
      if (state.fullScreen) win.setFullScreen(true);
      win.show();
    });
    rememberPlace(win, stateFile);
    win.webContents.on('did-finish-load', () => this.options.onPageLoaded());
    reloadWhenGone(win, this.options);
    win.on('closed', () => {
      if (this.window === win) this.window = undefined;
    });
    void win.loadURL(APP_ENTRY_URL);
    return win;
  }
}
