// The desktop app in the real Electron binary, driven by Playwright's _electron: the same flow as the
// browser build (photos opened, labelled in the background, boxes read back, a COCO export), plus
// what only Electron can show (the page has no Node.js, navigation and remote requests fail, the
// window's real webPreferences). Skipped, with the reason, where the Electron binary is not
// installed (npm drops the optional electron package when its download fails) or there is no display.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copySharedPhotos, drawScene, repoRoot, tempDir } from '../helpers';

function electronBinary(): { path?: string; reason?: string } {
  let binary: unknown;
  try {
    binary = createRequire(path.join(repoRoot, 'package.json'))('electron');
  } catch (err) {
    return { reason: `the Electron binary is not installed (${String((err as Error).message).split('\n')[0]}); npm skips the optional electron package when its download fails` };
  }
  if (typeof binary !== 'string' || !fs.existsSync(binary)) return { reason: `the Electron binary is missing (${String(binary)})` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return { reason: 'there is no display: run the tests under xvfb-run' };
  return { path: binary };
}

/** The test's environment for Electron, without what would make it run as plain Node. */
function electronEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'ELECTRON_RUN_AS_NODE') env[k] = v;
  return { ...env, ...extra };
}

const electron = electronBinary();
if (!electron.path) console.log(`SKIP tests/shell/electron.test.ts: ${electron.reason}`);

describe.skipIf(!electron.path)('the desktop app in Electron', () => {
  let app: ElectronApplication;
  let page: Page;
  let dir: string;
  let photos: string;

  const invoke = (method: string, input: unknown = {}) => page.evaluate(([m, i]) => (window as any).fashionDetect.invoke(m, i), [method, input] as const);

  beforeAll(async () => {
    expect(fs.existsSync(path.join(repoRoot, 'dist/main/shell/electron/main.js')), 'run npm run build first').toBe(true);
    dir = fs.realpathSync(tempDir('fd-electron-'));
    photos = path.join(dir, 'photos');
    fs.mkdirSync(photos);
    if (copySharedPhotos(photos, 3).length === 0) {
      for (const seed of [1, 2, 3]) await (await drawScene(480, 640, seed)).jpeg().toFile(path.join(photos, `scene-${seed}.jpg`));
    }
    app = await _electron.launch({
      executablePath: electron.path,
      // The folder on the command line is opened as if chosen in a dialog.
      args: [repoRoot, photos],
      env: electronEnv({ FASHION_DETECT_USER_DATA: path.join(dir, 'user-data'), FASHION_DETECT_BACKEND: 'wasm' }),
      timeout: 60_000,
    });
    page = await app.firstWindow();
    await page.waitForFunction(() => 'fashionDetect' in window);
  });

  afterAll(async () => {
    await app?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows the app on its own scheme, with only the bridge and no Node.js in the page', async () => {
    expect(page.url()).toBe('fashion-detect://app/index.html');
    expect(await page.evaluate(() => [typeof (window as any).require, typeof (window as any).process, typeof (window as any).module])).toEqual(['undefined', 'undefined', 'undefined']);
    expect(await page.evaluate(() => Object.keys((window as any).fashionDetect).sort())).toEqual(['invoke', 'mediaUrl', 'onEvent', 'onMenuCommand', 'pathsForFiles']);
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const p = BrowserWindow.getAllWindows()[0].webContents.getLastWebPreferences() as Record<string, unknown>;
      return { contextIsolation: p.contextIsolation, sandbox: p.sandbox, nodeIntegration: p.nodeIntegration, webSecurity: p.webSecurity, webviewTag: p.webviewTag };
    });
    expect(prefs).toEqual({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
  });

  it('labels the opened folder in the background while the page stays responsive', async () => {
    let workspace: any;
    for (let tries = 0; tries < 600; tries++) {
      workspace = await invoke('getWorkspace');
      if (workspace.ok && workspace.value.images.length === 3 && workspace.value.images.every((i: any) => i.state === 'done' || i.state === 'failed')) break;
      // The page answers between polls: labelling runs in worker threads of the main process.
      expect(await page.evaluate(() => 1 + 1)).toBe(2);
      await page.waitForTimeout(200);
    }
    expect(workspace.value.images.map((i: any) => i.state)).toEqual(['done', 'done', 'done']);
    const first = await invoke('getImage', { id: workspace.value.images[0].id });
    expect(first.ok).toBe(true);
    expect(first.value.width).toBeGreaterThan(0);
  });

  it('draws the labelled boxes, and Edit > Undo in the menu undoes an edit', async () => {
    const workspace = await invoke('getWorkspace');
    const first = workspace.value.images[0];
    // Every box shown, whatever its score (the count covers them all).
    await page.getByRole('slider', { name: 'Confidence' }).fill('0');
    const list = page.getByRole('listbox', { name: 'Images' });
    await list.getByRole('option', { name: first.name }).first().click();
    await page.locator('img.photo').evaluate((img: HTMLImageElement) => img.decode());
    await page.waitForFunction((n) => document.querySelectorAll('[data-box-id]').length === n, first.count);
    // Draw a box, then undo it through the native menu (main -> preload -> the page's undo).
    const img = (await page.locator('img.photo').boundingBox())!;
    await page.getByRole('button', { name: 'Draw box' }).click();
    await page.mouse.move(img.x + img.width * 0.1, img.y + img.height * 0.7);
    await page.mouse.down();
    await page.mouse.move(img.x + img.width * 0.1 + 80, img.y + img.height * 0.7 + 60, { steps: 5 });
    await page.mouse.up();
    await page.keyboard.press('Escape');
    await page.waitForFunction((n) => document.querySelectorAll('[data-box-id]').length === n, first.count + 1);
    await app.evaluate(({ Menu }) => Menu.getApplicationMenu()!.getMenuItemById('undo')!.click());
    await page.waitForFunction((n) => document.querySelectorAll('[data-box-id]').length === n, first.count);
  });

  it('shows pictures by id through the app scheme, and nothing by path', async () => {
    const workspace = await invoke('getWorkspace');
    const id = workspace.value.images[0].id;
    const statuses = await page.evaluate(async (imageId) => {
      const bridge = (window as any).fashionDetect;
      const status = (url: string) => fetch(url).then((r) => r.status, () => 'failed');
      return {
        thumbnail: await status(bridge.mediaUrl('thumbnail', imageId)),
        display: await status(bridge.mediaUrl('display', imageId)),
        missing: await status(bridge.mediaUrl('display', 'i99999')),
        file: await status('file:///etc/passwd'),
        remote: await status('https://example.com/'),
        escape: await status('fashion-detect://app/..%2f..%2fpackage.json'),
      };
    }, id);
    expect(statuses).toEqual({ thumbnail: 200, display: 200, missing: 404, file: 'failed', remote: 'failed', escape: 403 });
    // A path the person did not choose is refused, a drop cannot be forged by the page.
    expect(await invoke('openPaths', { paths: ['/etc'] })).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(await page.evaluate(() => (window as any).fashionDetect.pathsForFiles([new File(['x'], '/etc/passwd')]))).toEqual([]);
    expect(await invoke('getImage', { id: '../../etc/passwd' })).toMatchObject({ ok: false, error: { code: 'bad-input' } });
  });

  it('stays on the app when the page tries to navigate or open a window', async () => {
    await page.evaluate(() => {
      window.open('https://example.com/');
      location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toBe('fashion-detect://app/index.html');
    expect(app.windows()).toHaveLength(1);
  });

  it('exports COCO through the save dialog', async () => {
    const target = path.join(dir, 'export.json');
    await app.evaluate(({ dialog }, file) => {
      dialog.showSaveDialog = (async () => ({ canceled: false, filePath: file })) as typeof dialog.showSaveDialog;
    }, target);
    const result = await invoke('exportAnnotations', { format: 'coco', filter: {} });
    expect(result).toMatchObject({ ok: true, value: { cancelled: false, format: 'coco', target, images: 3 } });
    const coco = JSON.parse(fs.readFileSync(target, 'utf8'));
    expect(coco.images).toHaveLength(3);
    expect(coco.categories.length).toBeGreaterThan(0);
  });

  it('remembers the window when it closes', async () => {
    await app.close();
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'user-data', 'window-state.json'), 'utf8'));
    expect(state.width).toBeGreaterThanOrEqual(800);
  });
});
