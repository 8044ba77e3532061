// The part of Electron's API the shell uses, typed here. electron is an optional dependency (its
// binary cannot download everywhere, and npm then drops the package with its types), so main.ts
// loads it with `require('electron') as ElectronMain` and the build never needs it (preload.ts types
// its own, smaller part).
// Names and signatures follow Electron 41's documentation.

export interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ElectronEvent {
  preventDefault(): void;
}

export interface IpcMainInvokeEvent {
  senderFrame: { url: string } | null;
  sender: WebContents;
}

export interface WebContents {
  id: number;
  getURL(): string;
  send(channel: string, ...args: unknown[]): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' }): void;
  on(event: 'will-navigate' | 'will-redirect' | 'will-frame-navigate', listener: (event: ElectronEvent & { url: string }, url: string) => void): this;
  on(event: 'will-attach-webview', listener: (event: ElectronEvent) => void): this;
  on(event: 'render-process-gone', listener: (event: ElectronEvent, details: { reason: string; exitCode: number }) => void): this;
  on(event: 'did-finish-load', listener: () => void): this;
  session: Session;
  isDestroyed(): boolean;
}

export interface WebRequestFilter {
  urls: string[];
}

export interface Session {
  protocol: Protocol;
  setPermissionRequestHandler(
    handler: ((webContents: WebContents, permission: string, callback: (granted: boolean) => void, details: { requestingUrl?: string }) => void) | null,
  ): void;
  setPermissionCheckHandler(handler: ((webContents: WebContents | null, permission: string, requestingOrigin: string) => boolean) | null): void;
  setDevicePermissionHandler?(handler: () => boolean): void;
  webRequest: {
    onBeforeRequest(filter: WebRequestFilter, listener: (details: { url: string }, callback: (response: { cancel?: boolean }) => void) => void): void;
  };
}

export interface Protocol {
  registerSchemesAsPrivileged(schemes: Array<{ scheme: string; privileges: Record<string, boolean> }>): void;
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void;
}

export interface BrowserWindowOptions {
  x?: number;
  y?: number;
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: boolean;
  title: string;
  backgroundColor: string;
  icon?: string;
  webPreferences: Record<string, unknown>;
}

export interface BrowserWindow {
  webContents: WebContents;
  loadURL(url: string): Promise<void>;
  show(): void;
  focus(): void;
  restore(): void;
  maximize(): void;
  setFullScreen(flag: boolean): void;
  isMinimized(): boolean;
  isMaximized(): boolean;
  isFullScreen(): boolean;
  isDestroyed(): boolean;
  getNormalBounds(): Rectangle;
  setTitle(title: string): void;
  once(event: 'ready-to-show', listener: () => void): this;
  on(event: 'close' | 'closed' | 'resize' | 'move', listener: () => void): this;
}

export interface BrowserWindowConstructor {
  new (options: BrowserWindowOptions): BrowserWindow;
  getAllWindows(): BrowserWindow[];
}

export interface OpenDialogOptions {
  title?: string;
  defaultPath?: string;
  buttonLabel?: string;
  filters?: Array<{ name: string; extensions: string[] }>;
  properties?: Array<'openFile' | 'openDirectory' | 'multiSelections' | 'showHiddenFiles' | 'createDirectory' | 'dontAddToRecent'>;
}

export interface SaveDialogOptions {
  title?: string;
  defaultPath?: string;
  buttonLabel?: string;
  filters?: Array<{ name: string; extensions: string[] }>;
  properties?: Array<'createDirectory' | 'showOverwriteConfirmation' | 'dontAddToRecent'>;
}

export interface Dialog {
  showOpenDialog(window: BrowserWindow, options: OpenDialogOptions): Promise<{ canceled: boolean; filePaths: string[] }>;
  showSaveDialog(window: BrowserWindow, options: SaveDialogOptions): Promise<{ canceled: boolean; filePath?: string }>;
  showErrorBox(title: string, content: string): void;
  showMessageBox(window: BrowserWindow, options: { type?: 'none' | 'info' | 'error' | 'question' | 'warning'; title?: string; message: string; detail?: string; buttons?: string[] }): Promise<{ response: number }>;
}

export interface App {
  isPackaged: boolean;
  name: string;
  getPath(name: 'userData' | 'home' | 'pictures' | 'documents'): string;
  setPath(name: 'userData', path: string): void;
  getVersion(): string;
  requestSingleInstanceLock(): boolean;
  whenReady(): Promise<void>;
  quit(): void;
  exit(code?: number): void;
  setName(name: string): void;
  on(event: 'second-instance', listener: (event: ElectronEvent, argv: string[], workingDirectory: string) => void): this;
  on(event: 'window-all-closed' | 'activate', listener: () => void): this;
  on(event: 'before-quit', listener: (event: ElectronEvent) => void): this;
  on(event: 'open-file', listener: (event: ElectronEvent, path: string) => void): this;
  on(event: 'web-contents-created', listener: (event: ElectronEvent, contents: WebContents) => void): this;
}

export interface IpcMain {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown> | unknown): void;
}

export interface Screen {
  getAllDisplays(): Array<{ workArea: Rectangle }>;
}

export interface Menu {
  buildFromTemplate(template: unknown[]): unknown;
  setApplicationMenu(menu: unknown): void;
}

/** What main.ts takes from require('electron'). */
export interface ElectronMain {
  app: App;
  BrowserWindow: BrowserWindowConstructor;
  dialog: Dialog;
  ipcMain: IpcMain;
  Menu: Menu;
  protocol: Protocol;
  screen: Screen;
  session: { defaultSession: Session };
}
