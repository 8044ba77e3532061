// The application menu as a plain template (Electron's Menu.buildFromTemplate takes it as is).
// Nothing here imports electron, so tests can check the items and their shortcuts.
import type { Menu } from './electron-api.js';
import type { MenuCommand } from './ipc.js';

export interface MenuItemTemplate {
  id?: string;
  label?: string;
  role?: string;
  type?: 'normal' | 'separator' | 'submenu';
  accelerator?: string;
  /** false: the shortcut is shown but left to the page (Windows and Linux; macOS ignores it). */
  registerAccelerator?: boolean;
  enabled?: boolean;
  click?: () => void;
  submenu?: MenuItemTemplate[];
}

/** What the menu's own commands do; installMenu passes each to the window as a menu command. */
export interface MenuActions {
  openImages(): void;
  openFolder(): void;
  importCoco(): void;
  exportCoco(): void;
  undo(): void;
  redo(): void;
}

const separator: MenuItemTemplate = { type: 'separator' };

export interface MenuOptions {
  platform: NodeJS.Platform;
  appName: string;
  devTools: boolean;
}

export function buildMenuTemplate(actions: MenuActions, options: MenuOptions): MenuItemTemplate[] {
  const isMac = options.platform === 'darwin';
  const file: MenuItemTemplate = {
    label: '&File',
    submenu: [
      { id: 'open-images', label: 'Open Images...', accelerator: 'CmdOrCtrl+O', click: actions.openImages },
      { id: 'open-folder', label: 'Open Folder...', accelerator: 'CmdOrCtrl+Shift+O', click: actions.openFolder },
      separator,
      { id: 'import-coco', label: 'Import COCO...', accelerator: 'CmdOrCtrl+I', click: actions.importCoco },
      { id: 'export-coco', label: 'Export COCO...', accelerator: 'CmdOrCtrl+E', click: actions.exportCoco },
      // On macOS Quit lives in the app menu, where people look for it.
      ...(isMac ? [] : [separator, { id: 'quit', label: 'Quit', role: 'quit', accelerator: 'Ctrl+Q' }]),
    ],
  };
  const edit: MenuItemTemplate = {
    label: '&Edit',
    submenu: [
      // The workspace's own undo history (box edits), not the text-field undo of the page. The keys
      // are the page's: it undoes boxes, or leaves them to a text field being typed in. Registered here
      // too, they would fire a second undo, or undo a box while the person undoes typing. (On macOS
      // the page sees key equivalents first, and one it handles never reaches the menu.)
      { id: 'undo', label: 'Undo', accelerator: 'CmdOrCtrl+Z', registerAccelerator: false, click: actions.undo },
      { id: 'redo', label: 'Redo', accelerator: isMac ? 'Cmd+Shift+Z' : 'Ctrl+Y', registerAccelerator: false, click: actions.redo },
      separator,
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  };
  const view: MenuItemTemplate = {
    label: '&View',
    submenu: [
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      separator,
      { role: 'togglefullscreen' },
      ...(options.devTools ? [separator, { role: 'toggleDevTools' }] : []),
    ],
  };
  const windowMenu: MenuItemTemplate = { role: 'windowMenu' };
  const appMenu: MenuItemTemplate = {
    label: options.appName,
    submenu: [{ role: 'about' }, separator, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, separator, { id: 'quit', label: `Quit ${options.appName}`, role: 'quit', accelerator: 'Cmd+Q' }],
  };
  return isMac ? [appMenu, file, edit, view, windowMenu] : [file, edit, view, windowMenu];
}

/** Every item of a template, depth first (for tests and for enabling items by id). */
export function flattenMenu(template: MenuItemTemplate[]): MenuItemTemplate[] {
  return template.flatMap((item) => [item, ...flattenMenu(item.submenu ?? [])]);
}

/** The application menu; each of its own commands is passed to the window as a menu command. */
export function installMenu(menu: Menu, sendCommand: (command: MenuCommand) => void, options: MenuOptions): void {
  const actions: MenuActions = {
    openImages: () => sendCommand('open-images'),
    openFolder: () => sendCommand('open-folder'),
    importCoco: () => sendCommand('import-coco'),
    exportCoco: () => sendCommand('export-coco'),
    undo: () => sendCommand('undo'),
    redo: () => sendCommand('redo'),
  };
  menu.setApplicationMenu(menu.buildFromTemplate(buildMenuTemplate(actions, options)));
}
