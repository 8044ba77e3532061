// The IPC boundary, without Electron: the handler ipcMain.handle('api') runs (answerApiCall) refuses
// calls from other pages, unknown methods and every input outside the method's schema before the
// service sees it, and answers openPaths only for paths the person chose or dropped. The compiled
// preload, run the way a sandboxed Electron preload is run, exposes exactly the contract's bridge.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiMethodNames, mediaKindSchema, parseMediaPath, type ApiHandlers } from '../../src-main/contract/api';
import { OpenedFiles } from '../../src-main/shell/electron/file-access';
import { API_CHANNEL, DROP_CHANNEL, EVENT_CHANNEL, MENU_CHANNEL, MENU_COMMANDS, acceptDroppedPaths, answerApiCall } from '../../src-main/shell/electron/ipc';
import { mediaUrl } from '../../src-main/shell/electron/protocol';
import { APP_ENTRY_URL } from '../../src-main/shell/electron/security';
import { drawScene, repoRoot, tempDir } from '../helpers';

/** A service that records every call that reaches it. */
function recordingService(): { service: ApiHandlers; calls: Array<{ method: string; input: unknown }> } {
  const calls: Array<{ method: string; input: unknown }> = [];
  const service = new Proxy({} as ApiHandlers, {
    get: (_target, method) => async (input: unknown) => {
      calls.push({ method: String(method), input });
      return { ok: 'from the service' };
    },
  });
  return { service, calls };
}

/** Inputs outside every method's schema (all are strict objects). */
const badForEveryMethod: unknown[] = [42, 'text', [], true, { unexpected: 1 }, { __proto__: { polluted: true }, constructor: 'x' }];

/** Inputs outside one method's schema, that a loose check might let through. */
const badByMethod: Record<string, unknown[]> = {
  getImage: [{}, { id: '../../etc/passwd' }, { id: 'i' }, { id: 12 }, { id: 'i1', extra: true }],
  setViewedImage: [{}, { id: '/home/someone/photo.jpg' }, { id: ['i1'] }, { id: 'i1', name: 'x.jpg' }],
  openPaths: [{}, { paths: [] }, { paths: 'one/path' }, { paths: ['ok', 7] }, { paths: ['/tmp/a\0b'] }, { paths: ['x'.repeat(5000)] }],
  openUploads: [{ names: ['../escape.jpg'] }, { names: ['/abs.jpg'] }, { names: ['a\\b.jpg'] }, { names: ['.hidden/a.jpg'] }, { names: ['C:/x.jpg'] }, { names: [] }],
  labelImages: [{ ids: [] }, { ids: ['x1'] }, { ids: 'i1' }],
  updateBoxes: [
    { id: 'i1', boxes: [{ id: 'b1', categoryId: 1, score: 0.5, bbox: [0, 0, -5, 10], verified: true }] },
    { id: 'i1', boxes: [{ id: 'b1', categoryId: 1, score: 2, bbox: [0, 0, 5, 10], verified: true }] },
    { id: 'i1', boxes: [{ id: 'b1', categoryId: 0, score: 0.5, bbox: [0, 0, 5, 10], verified: true }] },
    { id: 'i1', boxes: [{ id: 'b 1', categoryId: 1, score: 0.5, bbox: [0, 0, 5, 10], verified: true }] },
    { id: 'i1', boxes: [{ id: 'b1', categoryId: 1, score: 0.5, bbox: [0, 0, 5], verified: true }] },
    { id: 'i1', boxes: [{ id: 'b1', categoryId: 1, score: 0.5, bbox: [0, Number.NaN, 5, 10], verified: true }] },
    { id: 'i1', boxes: 'none' },
  ],
  setSaveLocation: [{ location: '/tmp' }, {}],
  getStatistics: [{ minScore: -0.1 }, { minScore: '0.5' }],
  exportAnnotations: [{ format: 'csv', filter: {} }, { format: 'coco' }, { format: 'coco', filter: { minScore: 5 } }, { format: 'coco', filter: { categoryIds: [-1] } }],
  importCoco: [{ text: 5 }, { fileName: ['a'] }],
  getNearDuplicates: [{ maxDistance: -1 }, { maxDistance: 100 }, { maxDistance: 2.5 }, { mirror: 'yes' }, { hashMissing: 1 }],
  keepNearDuplicate: [{}, { groupId: 'g1' }, { groupId: '12', imageId: 'i1' }, { groupId: 'g1', imageId: '../x' }, { groupId: 'g1', imageId: 'i1', extra: 1 }],
  getUnusualBoxes: [{ minScore: 1.5 }, { minScore: '0.3' }],
  exportSplit: [{}, { filter: {}, val: 0 }, { filter: {}, val: 1 }, { filter: {}, val: 0.2, seed: -1 }, { filter: { leaveOutNearDuplicates: 'yes' } }],
};

describe('answerApiCall (ipcMain.handle("api"))', () => {
  const grants = new OpenedFiles();

  it.each(apiMethodNames)('%s: input outside its schema never reaches the service', async (method) => {
    const { service, calls } = recordingService();
    for (const input of [...badForEveryMethod, ...(badByMethod[method] ?? [])]) {
      const result = await answerApiCall(service, grants, APP_ENTRY_URL, [method, input]);
      expect(result, `${method} ${JSON.stringify(input)}`).toMatchObject({ ok: false, error: { code: 'bad-input' } });
      if (!result.ok) expect(result.error.message).toMatch(new RegExp(`^${method}: `));
    }
    expect(calls).toEqual([]);
  });

  it('refuses unknown methods, prototype names and a wrong argument count', async () => {
    const { service, calls } = recordingService();
    for (const method of ['deleteEverything', 'constructor', '__proto__', 'toString', 42, null, undefined]) {
      expect(await answerApiCall(service, grants, APP_ENTRY_URL, [method, {}])).toMatchObject({ ok: false, error: { code: 'unknown-method' } });
    }
    expect(await answerApiCall(service, grants, APP_ENTRY_URL, [])).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(await answerApiCall(service, grants, APP_ENTRY_URL, ['getWorkspace', {}, 'extra'])).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(calls).toEqual([]);
  });

  it('refuses calls from anything but the app page', async () => {
    const { service, calls } = recordingService();
    for (const sender of ['https://example.com/', 'file:///tmp/page.html', undefined]) {
      expect(await answerApiCall(service, grants, sender, ['getWorkspace', {}])).toMatchObject({ ok: false, error: { code: 'failed' } });
    }
    expect(calls).toEqual([]);
  });

  it('passes good input through, with the schema defaults filled in', async () => {
    const { service, calls } = recordingService();
    expect(await answerApiCall(service, grants, APP_ENTRY_URL, ['getWorkspace', {}])).toEqual({ ok: true, value: { ok: 'from the service' } });
    await answerApiCall(service, grants, APP_ENTRY_URL, ['exportAnnotations', { format: 'coco', filter: {} }]);
    expect(calls).toEqual([
      { method: 'getWorkspace', input: {} },
      { method: 'exportAnnotations', input: { format: 'coco', filter: { minScore: 0, verifiedOnly: false, leaveOutNearDuplicates: false } } },
    ]);
  });
});

describe('openPaths: only what the person chose or dropped', () => {
  let dir: string;
  beforeAll(async () => {
    dir = fs.realpathSync(tempDir('fd-shell-ipc-'));
    fs.mkdirSync(path.join(dir, 'chosen'));
    fs.mkdirSync(path.join(dir, 'other'));
    const jpeg = await (await drawScene(64, 96)).jpeg().toBuffer();
    for (const f of ['chosen/a.jpg', 'other/b.jpg', 'dropped.jpg']) fs.writeFileSync(path.join(dir, f), jpeg);
    fs.symlinkSync(path.join(dir, 'other'), path.join(dir, 'chosen', 'link-out'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('answers for a chosen folder and what is in it, refuses everything else', async () => {
    const grants = new OpenedFiles();
    grants.grantFolder(path.join(dir, 'chosen'));
    const { service, calls } = recordingService();
    const open = (paths: string[]) => answerApiCall(service, grants, APP_ENTRY_URL, ['openPaths', { paths }]);
    expect(await open([path.join(dir, 'chosen')])).toMatchObject({ ok: true });
    expect(await open([path.join(dir, 'chosen', 'a.jpg')])).toMatchObject({ ok: true });
    for (const paths of [
      [path.join(dir, 'other')],
      [path.join(dir, 'chosen', 'a.jpg'), path.join(dir, 'other', 'b.jpg')],
      [`${dir}/chosen/../other`],
      [path.join(dir, 'chosen', 'link-out')],
      [path.join(dir, 'chosen', 'link-out', 'b.jpg')],
      ['chosen/a.jpg'],
      ['/etc'],
      [dir],
    ]) {
      const result = await open(paths);
      expect(result, paths.join(',')).toMatchObject({ ok: false, error: { code: 'bad-input' } });
      if (!result.ok) expect(result.error.message).toMatch(/was not chosen in a dialog or dropped on the window/);
    }
    expect(calls.map((c) => c.input)).toEqual([{ paths: [path.join(dir, 'chosen')] }, { paths: [path.join(dir, 'chosen', 'a.jpg')] }]);
  });

  it('answers for dropped files once the preload reported them, and only from the app page', async () => {
    const grants = new OpenedFiles();
    const { service } = recordingService();
    const dropped = path.join(dir, 'dropped.jpg');
    expect(await answerApiCall(service, grants, APP_ENTRY_URL, ['openPaths', { paths: [dropped] }])).toMatchObject({ ok: false });
    expect(acceptDroppedPaths(grants, 'https://example.com/', [dropped])).toBe(0);
    expect(acceptDroppedPaths(grants, APP_ENTRY_URL, 'not a list')).toBe(0);
    expect(acceptDroppedPaths(grants, APP_ENTRY_URL, [dropped, path.join(dir, 'gone.jpg'), 'relative.jpg'])).toBe(1);
    expect(await answerApiCall(service, grants, APP_ENTRY_URL, ['openPaths', { paths: [dropped] }])).toMatchObject({ ok: true });
  });
});

describe('the compiled preload', () => {
  const preloadFile = path.join(repoRoot, 'dist/main/shell/preload/preload.js');

  /** Runs dist/main/shell/preload/preload.js as Electron runs a sandboxed preload, with a fake electron. */
  function runPreload() {
    const exposed: Record<string, any> = {};
    const invoked: unknown[][] = [];
    const listeners = new Map<string, (event: unknown, ...args: unknown[]) => void>();
    const keydowns: any[] = [];
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
      ipcRenderer: {
        invoke: async (...args: unknown[]) => {
          invoked.push(args);
          return { ok: true, value: null };
        },
        on: (channel: string, listener: (event: unknown, ...args: unknown[]) => void) => listeners.set(channel, listener),
        removeListener: () => undefined,
      },
      webUtils: { getPathForFile: (file: { diskPath?: string }) => file.diskPath ?? '' },
    };
    const required: string[] = [];
    const sandboxRequire = (name: string) => {
      required.push(name);
      if (name === 'electron') return electron;
      throw new Error(`module not found: ${name}`);
    };
    class KeyboardEvent {
      constructor(
        readonly type: string,
        readonly init: Record<string, unknown>,
      ) {}
    }
    const context = vm.createContext({ document: { dispatchEvent: (e: unknown) => keydowns.push(e) }, KeyboardEvent });
    const wrapped = vm.runInContext(`(function(require, process, exports, module) {${fs.readFileSync(preloadFile, 'utf8')}\n})`, context);
    const exports = {};
    wrapped(sandboxRequire, { platform: 'linux' }, exports, { exports });
    return { bridge: exposed.fashionDetect, exposed, invoked, listeners, keydowns, required };
  }

  it('requires nothing but electron and exposes exactly the bridge', () => {
    expect(fs.existsSync(preloadFile), 'run npx tsc -p . first').toBe(true);
    const { exposed, bridge, required } = runPreload();
    expect(required).toEqual(['electron']);
    expect(Object.keys(exposed)).toEqual(['fashionDetect']);
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'mediaUrl', 'onEvent', 'onMenuCommand', 'pathsForFiles']);
  });

  it('uses the channels of ipc.ts and the media URLs of the app scheme', async () => {
    const { bridge, invoked, listeners } = runPreload();
    await bridge.invoke('getImage', { id: 'i3' });
    expect(invoked).toEqual([[API_CHANNEL, 'getImage', { id: 'i3' }]]);
    expect([...listeners.keys()].sort()).toEqual([EVENT_CHANNEL, MENU_CHANNEL].sort());
    expect(bridge.mediaUrl('thumbnail', 'i3')).toBe(mediaUrl('thumbnail', 'i3'));
    expect(parseMediaPath(new URL(bridge.mediaUrl('display', 'i12')).pathname)).toEqual({ kind: 'display', id: 'i12' });
    expect(() => bridge.mediaUrl('../../etc', 'i1')).toThrow(/unknown media kind/);
    // The preload keeps its own list (it imports no code of the contract): every kind the contract has works.
    for (const kind of mediaKindSchema.options) expect(parseMediaPath(new URL(bridge.mediaUrl(kind, 'x1')).pathname)).toEqual({ kind, id: 'x1' });
  });

  it('delivers events to subscribers until they unsubscribe', () => {
    const { bridge, listeners } = runPreload();
    const seen: unknown[] = [];
    const stop = bridge.onEvent((e: unknown) => seen.push(e));
    listeners.get(EVENT_CHANNEL)!({}, { type: 'workspace' });
    stop();
    listeners.get(EVENT_CHANNEL)!({}, { type: 'workspace' });
    expect(seen).toEqual([{ type: 'workspace' }]);
  });

  it('reports only real dropped paths to the main process', () => {
    const { bridge, invoked } = runPreload();
    const paths = bridge.pathsForFiles([{ diskPath: '/photos/a.jpg' }, { name: 'made-by-the-page.jpg' }]);
    expect(paths).toEqual(['/photos/a.jpg']);
    expect(invoked).toEqual([[DROP_CHANNEL, ['/photos/a.jpg']]]);
    expect(bridge.pathsForFiles([{ name: 'forged' }])).toEqual([]);
    expect(invoked).toHaveLength(1);
  });

  it('hands menu commands to the page, or carries them out itself when the page does not listen', () => {
    const { bridge, invoked, listeners, keydowns } = runPreload();
    const menu = listeners.get(MENU_CHANNEL)!;
    menu({}, 'open-folder');
    menu({}, 'export-coco');
    menu({}, 'undo');
    menu({}, 'rm -rf');
    expect(invoked).toEqual([
      [API_CHANNEL, 'openFolderDialog', {}],
      [API_CHANNEL, 'exportAnnotations', { format: 'coco', filter: {} }],
    ]);
    expect(keydowns.map((k) => [k.type, k.init.key, k.init.ctrlKey])).toEqual([['keydown', 'z', true]]);
    const commands: string[] = [];
    bridge.onMenuCommand((c: string) => commands.push(c));
    for (const c of MENU_COMMANDS) menu({}, c);
    expect(commands).toEqual([...MENU_COMMANDS]);
    expect(invoked).toHaveLength(2);
  });
});
