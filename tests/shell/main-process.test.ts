// The compiled Electron main process (dist/main/shell/electron/main.js) run against a fake `electron` module
// (fake-electron-driver.cjs), so the wiring is checked here, where the Electron binary cannot be
// installed: the window's settings, the scheme, the session's policies, IPC validation, the menu,
// a native dialog, detection in the service's worker threads with events to the window, the
// single-instance lock and the window state. The real binary is exercised by electron.test.ts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src-main/shell/common/security-headers';
import { APP_ENTRY_URL, secureWebPreferences } from '../../src-main/shell/electron/security';
import { copySharedPhotos, drawScene, hasShared, repoRoot, tempDir } from '../helpers';

const driver = path.join(__dirname, 'fake-electron-driver.cjs');
let dir: string;

function runDriver(...extra: string[]): any {
  const userData = path.join(dir, `user-data-${extra.length}`);
  const env: NodeJS.ProcessEnv = { ...process.env, FASHION_DETECT_BACKEND: 'wasm' };
  delete env.FASHION_DETECT_MODELS;
  delete env.FASHION_DETECT_USER_DATA;
  const result = spawnSync(process.execPath, [driver, userData, path.join(dir, 'photos'), ...extra], { encoding: 'utf8', timeout: 170_000, env });
  expect(result.status, result.stderr).toBe(0);
  return { record: JSON.parse(result.stdout.trim().split('\n').at(-1)!), userData };
}

beforeAll(async () => {
  expect(fs.existsSync(path.join(repoRoot, 'dist/main/shell/electron/main.js')), 'run npx tsc -p . first').toBe(true);
  dir = fs.realpathSync(tempDir('fd-shell-main-'));
  const photos = path.join(dir, 'photos');
  fs.mkdirSync(photos);
  // Real photos where ../shared is there, drawn ones elsewhere: the flow is the same.
  if (copySharedPhotos(photos, 2).length === 0) {
    for (const seed of [1, 2]) await (await drawScene(480, 640, seed)).jpeg().toFile(path.join(photos, `scene-${seed}.jpg`));
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the Electron main process (fake electron)', () => {
  let record: any;
  let userData: string;
  beforeAll(() => {
    ({ record, userData } = runDriver());
  });

  it('opens one window with the secure settings on the app scheme', () => {
    expect(record.singleInstanceLockRequested).toBe(true);
    expect(record.windows).toHaveLength(1);
    expect(record.windows[0].webPreferences).toEqual(secureWebPreferences(path.join(repoRoot, 'dist/main/shell/preload/preload.js'), { devTools: true }));
    expect(record.windows[0].show).toBe(false); // shown when ready, so no white flash
    expect(record.loadedUrls).toEqual([APP_ENTRY_URL]);
    expect(record.privilegedSchemes).toEqual([{ scheme: 'fashion-detect', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
    expect(record.privilegedSchemes[0].privileges).not.toHaveProperty('bypassCSP');
    expect(record.protocolSchemes).toEqual(['fashion-detect']);
    // One data folder for the window's work and the models trained in the app (the CLI's too).
    expect(record.userDataSetTo).toBe(path.resolve(userData));
  });

  it('blocks navigation, new windows, webviews, remote requests and permissions', () => {
    for (const [key, prevented] of Object.entries(record.navigation)) {
      expect(prevented, key).toBe(!key.endsWith(APP_ENTRY_URL));
    }
    expect(record.windowOpen).toEqual({ action: 'deny' });
    expect(record.webviewPrevented).toBe(true);
    expect(Object.values(record.cancelled)).toEqual([true, true, true]);
    expect(record.beforeRequestFilter.urls).toEqual(expect.arrayContaining(['http://*/*', 'https://*/*', 'file:///*']));
    // Chromium match patterns: <scheme>://<host><path>, and a file: pattern has no host.
    for (const pattern of record.beforeRequestFilter.urls) expect(pattern).toMatch(/^(https?|wss?):\/\/\*\/\*$|^file:\/\/\/\*$/);
    expect(record.permissionRequest).toEqual({ media: false, geolocation: false, notifications: false, 'clipboard-sanitized-write': true });
    expect(record.permissionCheck).toEqual(record.permissionRequest);
  });

  it('serves everything with the CSP, and nothing outside the app', () => {
    for (const [url, res] of Object.entries<any>(record.protocolResponses)) {
      if (url === 'thumbnail') continue;
      expect(res.csp, url).toBe(CONTENT_SECURITY_POLICY);
    }
    const rendererBuilt = fs.existsSync(path.join(repoRoot, 'dist/renderer/index.html'));
    expect(record.protocolResponses['fashion-detect://app/'].status).toBe(rendererBuilt ? 200 : 404);
    expect(record.protocolResponses['fashion-detect://app/media/display/i999'].status).toBe(404);
    expect(record.protocolResponses['fashion-detect://app/%2e%2e/%2e%2e/package.json'].status).toBe(404);
  });

  it('answers IPC only with valid input from the app page, and paths only from a dialog', () => {
    expect(record.ipcChannels.sort()).toEqual(['api', 'dropped-paths']);
    expect(record.apiResults.badInput).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(record.apiResults.unknown).toMatchObject({ ok: false, error: { code: 'unknown-method' } });
    expect(record.apiResults.foreignSender).toMatchObject({ ok: false, error: { code: 'failed' } });
    expect(record.apiResults.ungrantedPath).toMatchObject({ ok: false, error: { code: 'bad-input', message: expect.stringMatching(/not chosen in a dialog/) } });
    expect(record.apiResults.features).toEqual({ dialogs: true, uploads: false });
    expect(record.lastDialog).toBe('Open Folder');
    expect(record.apiResults.openFolder).toMatchObject({ ok: true, value: { added: 2, cancelled: false, problems: [] } });
    // After the dialog the same folder may be named by path (it was chosen).
    expect(record.apiResults.grantedPath).toMatchObject({ ok: true, value: { alreadyOpen: 2 } });
  });

  it('labels the opened photos off the main thread and tells the window', () => {
    expect(record.apiResults.labelled.state).toBe('done');
    if (hasShared) expect(record.apiResults.labelled.boxes).toBeGreaterThan(0);
    expect(record.eventTypes).toEqual(expect.arrayContaining(['image', 'progress', 'workspace']));
    expect(record.protocolResponses.thumbnail).toMatchObject({ status: 200, type: 'image/jpeg' });
    expect(record.protocolResponses.thumbnail.bytes).toBeGreaterThan(1000);
  });

  it('has the menu of the issue, and passes its commands to the window', () => {
    expect(record.menuLabels).toEqual(expect.arrayContaining(['Open Images...', 'Open Folder...', 'Import COCO...', 'Export COCO...', 'Undo', 'Redo', 'Quit']));
    expect(record.menuCommandsSent).toEqual(['open-folder', 'undo']);
  });

  it('keeps one window for a second launch, remembers its place, and saves before quitting', () => {
    expect(record.focused).toBe(true);
    expect(record.windowCount).toBe(1);
    expect(record.windowStateSaved).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(userData, 'window-state.json'), 'utf8'))).toEqual({ x: 40, y: 30, width: 1111, height: 777, maximized: false, fullScreen: false });
    // The first quit waits for the service to write its work; then the app quits for real.
    expect(record.quitPrevented).toBe(true);
    expect(record.quitCalls).toBe(2);
  });

  it('as the installed app, reads the models from its resources and offers no DevTools', () => {
    const resources = path.join(dir, 'resources');
    fs.mkdirSync(resources, { recursive: true });
    // electron-builder's extraResources put models/ beside app.asar.
    fs.cpSync(path.join(repoRoot, 'models'), path.join(resources, 'models'), { recursive: true });
    const { record: packaged } = runDriver('--packaged', resources);
    expect(packaged.modelsEnv).toBe(path.join(resources, 'models'));
    expect(packaged.model).toMatchObject({ id: expect.any(String), name: expect.any(String) });
    expect(packaged.devTools).toBe(false);
    expect(packaged.menuHasDevTools).toBe(false);
  });

  it('quits at once, with no window, when another instance holds the lock', () => {
    const { record: second } = runDriver('--second-instance');
    expect(second.singleInstanceLockRequested).toBe(true);
    expect(second.quitCalls).toBe(1);
    expect(second.windows).toEqual([]);
    expect(second.ipcChannels).toEqual([]);
  });
});
