// Window size and place remembered between runs, the application menu's commands, and the paths
// named on the command line.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { pathsFromArgv } from '../../src-main/shell/electron/command-line';
import { buildMenuTemplate, flattenMenu, type MenuActions } from '../../src-main/shell/electron/menu';
import { DEFAULT_WINDOW_STATE, MIN_HEIGHT, MIN_WIDTH, fitToDisplays, loadWindowState, saveWindowState } from '../../src-main/shell/electron/window-state';
import { tempDir } from '../helpers';

const dir = tempDir('fd-shell-window-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const laptop = { x: 0, y: 0, width: 1920, height: 1050 };
const rightMonitor = { x: 1920, y: 0, width: 2560, height: 1410 };

describe('window state', () => {
  it('comes back as it was saved', () => {
    const file = path.join(dir, 'window-state.json');
    saveWindowState(file, { x: 2100, y: 40, width: 1500, height: 1000 }, { maximized: true, fullScreen: false });
    expect(loadWindowState(file, [laptop, rightMonitor])).toEqual({ x: 2100, y: 40, width: 1500, height: 1000, maximized: true, fullScreen: false });
  });

  it('is centred again when its monitor is gone', () => {
    const file = path.join(dir, 'on-unplugged.json');
    saveWindowState(file, { x: 2100, y: 40, width: 1500, height: 1000 }, { maximized: false, fullScreen: false });
    const state = loadWindowState(file, [laptop]);
    expect(state.x).toBeUndefined();
    expect(state.y).toBeUndefined();
    expect(state.width).toBe(1500);
  });

  it('keeps a window whose title bar is partly on a screen, drops one above every screen', () => {
    expect(fitToDisplays({ x: -300, y: 10, width: 1000, height: 700, maximized: false, fullScreen: false }, [laptop]).x).toBe(-300);
    expect(fitToDisplays({ x: 100, y: -600, width: 1000, height: 700, maximized: false, fullScreen: false }, [laptop]).x).toBeUndefined();
  });

  it('is clamped between the minimum size and the largest screen', () => {
    const tiny = fitToDisplays({ width: 100, height: 50, maximized: false, fullScreen: false }, [laptop]);
    expect([tiny.width, tiny.height]).toEqual([MIN_WIDTH, MIN_HEIGHT]);
    const huge = fitToDisplays({ width: 9000, height: 9000, maximized: false, fullScreen: false }, [laptop, rightMonitor]);
    expect([huge.width, huge.height]).toEqual([2560, 1410]);
  });

  it('falls back to the default when the file is missing, damaged or wrong', () => {
    expect(loadWindowState(path.join(dir, 'none.json'), [laptop])).toEqual(DEFAULT_WINDOW_STATE);
    fs.writeFileSync(path.join(dir, 'broken.json'), '{"width": 12');
    expect(loadWindowState(path.join(dir, 'broken.json'), [laptop])).toEqual(DEFAULT_WINDOW_STATE);
    fs.writeFileSync(path.join(dir, 'wrong.json'), '{"width": "wide", "height": -5}');
    expect(loadWindowState(path.join(dir, 'wrong.json'), [laptop])).toEqual(DEFAULT_WINDOW_STATE);
  });
});

describe('application menu', () => {
  const actions = (): MenuActions => ({
    openImages: vi.fn(),
    openFolder: vi.fn(),
    importCoco: vi.fn(),
    exportCoco: vi.fn(),
    undo: vi.fn(),
    redo: vi.fn(),
  });

  it.each(['linux', 'win32', 'darwin'] as const)('has every command of the issue on %s, each with a shortcut', (platform) => {
    const a = actions();
    const items = flattenMenu(buildMenuTemplate(a, { platform, appName: 'Fashion Detect', devTools: false }));
    const byId = new Map(items.filter((i) => i.id).map((i) => [i.id, i]));
    expect(items.filter((i) => i.label).map((i) => i.label)).toEqual(expect.arrayContaining(['Open Images...', 'Open Folder...', 'Import COCO...', 'Export COCO...', 'Undo', 'Redo']));
    expect(byId.get('quit')?.role).toBe('quit');
    for (const id of ['open-images', 'open-folder', 'import-coco', 'export-coco', 'undo', 'redo', 'quit']) {
      expect(byId.get(id)?.accelerator, id).toBeTruthy();
    }
    // Undo and redo keys are the page's (which leaves them to text fields): shown, not registered.
    expect(byId.get('undo')?.registerAccelerator).toBe(false);
    expect(byId.get('redo')?.registerAccelerator).toBe(false);
    expect(byId.get('open-folder')?.registerAccelerator).toBeUndefined();
    // Shortcuts are unique.
    const accelerators = items.map((i) => i.accelerator).filter(Boolean);
    expect(new Set(accelerators).size).toBe(accelerators.length);
    // Each command's click calls its action.
    byId.get('open-folder')!.click!();
    byId.get('export-coco')!.click!();
    byId.get('redo')!.click!();
    expect(a.openFolder).toHaveBeenCalledTimes(1);
    expect(a.exportCoco).toHaveBeenCalledTimes(1);
    expect(a.redo).toHaveBeenCalledTimes(1);
    expect(a.openImages).not.toHaveBeenCalled();
    // DevTools only when asked for (development runs).
    expect(items.some((i) => i.role === 'toggleDevTools')).toBe(false);
  });

  it('puts Quit in the app menu on macOS and in File elsewhere', () => {
    const mac = buildMenuTemplate(actions(), { platform: 'darwin', appName: 'Fashion Detect', devTools: true });
    expect(mac[0].label).toBe('Fashion Detect');
    expect(flattenMenu(mac[0].submenu!).some((i) => i.role === 'quit')).toBe(true);
    expect(flattenMenu(mac).some((i) => i.role === 'toggleDevTools')).toBe(true);
    const linux = buildMenuTemplate(actions(), { platform: 'linux', appName: 'Fashion Detect', devTools: false });
    expect(linux[0].label).toBe('&File');
    expect(linux[0].submenu!.some((i) => i.role === 'quit')).toBe(true);
  });
});

describe('paths on the command line', () => {
  const photos = path.join(dir, 'photos');
  fs.mkdirSync(photos, { recursive: true });
  fs.writeFileSync(path.join(photos, 'a.jpg'), 'x');

  it('skips the app folder and switches wherever they are', () => {
    expect(pathsFromArgv(['electron', '.', 'photos'], dir, false)).toEqual([photos]);
    // Playwright and Chromium put their switches before the app folder.
    expect(pathsFromArgv(['electron', '--inspect=0', '--remote-debugging-port=0', '/repo', 'photos/a.jpg'], dir, false)).toEqual([path.join(photos, 'a.jpg')]);
    expect(pathsFromArgv(['electron', '.'], dir, false)).toEqual([]);
  });

  it('takes every argument after the binary in the installed app, and only paths that exist', () => {
    expect(pathsFromArgv(['/opt/Fashion Detect/fashion-detect', 'photos', '--no-sandbox', 'missing.jpg', path.join(photos, 'a.jpg')], dir, true)).toEqual([photos, path.join(photos, 'a.jpg')]);
  });
});
