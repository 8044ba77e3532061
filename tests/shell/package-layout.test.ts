// What `npm run dist` puts in the installers, checked without internet: electron-builder packs the
// app for Linux as an unpacked folder (the step every installer starts from) around a stand-in
// Electron distribution, so nothing is downloaded. Then the packed app itself (extracted from its
// asar) runs against the fake electron module as the installed app would: models from its
// resources, photos labelled in worker threads from the unpacked worker script, production
// dependencies only. The real installers need internet (see docs/app.md).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawScene, repoRoot, tempDir } from '../helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const asar = require(require.resolve('@electron/asar', { paths: [path.dirname(require.resolve('app-builder-lib/package.json'))] }));

const skipReason =
  process.platform !== 'linux'
    ? 'the stand-in Electron distribution is for Linux'
    : !fs.existsSync(path.join(repoRoot, 'dist/main/shell/electron/main.js'))
      ? 'the app is not built (npm run build)'
      : undefined;
if (skipReason) console.log(`SKIP tests/shell/package-layout.test.ts: ${skipReason}`);

describe.skipIf(skipReason)('the packed app (electron-builder --linux dir)', () => {
  let dir: string;
  let resources: string;
  let files: string[];

  beforeAll(() => {
    dir = fs.realpathSync(tempDir('fd-shell-pack-'));
    // A stand-in for Electron's Linux distribution: the binary electron-builder renames, and resources/.
    const fakeDist = path.join(dir, 'electron-dist');
    fs.mkdirSync(path.join(fakeDist, 'resources'), { recursive: true });
    fs.writeFileSync(path.join(fakeDist, 'electron'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const result = spawnSync(
      process.execPath,
      [require.resolve('electron-builder/cli.js'), '--linux', 'dir', '--config', 'electron.config.ts', `-c.electronDist=${fakeDist}`, `-c.directories.output=${path.join(dir, 'release')}`, '--publish', 'never'],
      { cwd: repoRoot, encoding: 'utf8', timeout: 240_000, env: { ...process.env, ELECTRON_BUILDER_CACHE: path.join(dir, 'cache') } },
    );
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    resources = path.join(dir, 'release', 'linux-unpacked', 'resources');
    files = asar.listPackage(path.join(resources, 'app.asar')).map((f: string) => f.split(path.sep).join('/'));
  }, 300_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('holds the compiled app and production dependencies, without electron or build tools', () => {
    for (const f of ['/package.json', '/dist/main/shell/electron/main.js', '/dist/main/shell/preload/preload.js', '/dist/main/core/detect/detect-worker.js', '/dist/main/shell/web/main.js']) expect(files, f).toContain(f);
    if (fs.existsSync(path.join(repoRoot, 'dist/renderer/index.html'))) expect(files).toContain('/dist/renderer/index.html');
    for (const f of ['/node_modules/sharp/package.json', '/node_modules/@tensorflow/tfjs-backend-wasm/package.json', '/node_modules/zod/package.json']) expect(files, f).toContain(f);
    for (const dev of ['electron', 'electron-builder', 'vite', 'vitest', 'typescript', 'svelte', 'playwright-core']) {
      expect(files.some((f) => f.startsWith(`/node_modules/${dev}/`)), dev).toBe(false);
    }
    expect(files.some((f) => f.endsWith('.map'))).toBe(false);
    expect(files.some((f) => f.startsWith('/src-main/') || f.startsWith('/tests/'))).toBe(false);
  });

  it('unpacks the native modules and the worker script, and ships the weights beside the asar', () => {
    const unpacked = path.join(resources, 'app.asar.unpacked');
    expect(fs.existsSync(path.join(unpacked, 'dist/main/core/detect/detect-worker.js'))).toBe(true);
    expect(fs.readdirSync(path.join(unpacked, 'node_modules/@img')).some((d) => d.startsWith('sharp-'))).toBe(true);
    const models = fs.readdirSync(path.join(resources, 'models'));
    // Detectors (manifest.json) and the pose model a detector may take (weights.json).
    const describedBy = (dir: string) => ['manifest.json', 'weights.json'].find((f) => fs.existsSync(path.join(dir, f)));
    const ready = fs.readdirSync(path.join(repoRoot, 'models')).filter((id) => describedBy(path.join(repoRoot, 'models', id)));
    expect(ready).toContain('pose-movenet-lightning');
    expect(models.sort()).toEqual(ready.sort());
    for (const id of models) {
      const dir = path.join(resources, 'models', id);
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, describedBy(dir)!), 'utf8'));
      for (const w of manifest.weights) {
        if (!fs.existsSync(path.join(repoRoot, 'models', id, w.file))) continue; // not installed here
        const sum = createHash('sha256').update(fs.readFileSync(path.join(resources, 'models', id, w.file))).digest('hex');
        expect(sum, `${id}/${w.file}`).toBe(w.sha256);
      }
    }
  });

  it('runs from its packed files as the installed app: models from its resources, photos labelled in worker threads', async () => {
    const appRoot = path.join(dir, 'app');
    asar.extractAll(path.join(resources, 'app.asar'), appRoot);
    const photos = path.join(dir, 'photos');
    fs.mkdirSync(photos);
    await (await drawScene(480, 640, 3)).jpeg().toFile(path.join(photos, 'scene.jpg'));
    const env: NodeJS.ProcessEnv = { ...process.env, FD_APP_ROOT: appRoot, FASHION_DETECT_BACKEND: 'wasm' };
    delete env.FASHION_DETECT_MODELS;
    delete env.FASHION_DETECT_MODEL;
    const run = spawnSync(process.execPath, [path.join(__dirname, 'fake-electron-driver.cjs'), path.join(dir, 'user-data'), photos, '--packaged', resources, '--label'], {
      encoding: 'utf8',
      timeout: 170_000,
      env,
    });
    expect(run.status, run.stderr).toBe(0);
    const record = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(record.modelsEnv).toBe(path.join(resources, 'models'));
    expect(record.preload).toBe(path.join(appRoot, 'dist/main/shell/preload/preload.js'));
    expect(record.devTools).toBe(false);
    expect(record.openFolder).toMatchObject({ ok: true, value: { added: 1 } });
    expect(record.labelledState, record.labelledReason).toBe('done');
    if (fs.existsSync(path.join(repoRoot, 'dist/renderer/index.html'))) expect(record.rendererStatus).toBe(200);
    expect(record.quitCalls).toBe(2);
  });
});
