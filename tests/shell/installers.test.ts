// electron.config.ts as electron-builder reads it (with its own loader and schema check): the
// installers the issue names, native modules and the worker script outside the asar, the model
// weights as extra resources, and an icon electron-builder can turn into every platform's format.
// Building the installers themselves needs internet (Electron's release zip), so it is not run here.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers';

// electron-builder's own config loader (jiti for TypeScript) and its JSON-schema validation.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DebugLogger } = require('builder-util');
// The same glob matcher electron-builder applies to these patterns, from electron-builder's own tree.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { minimatch } = require(require.resolve('minimatch', { paths: [path.dirname(require.resolve('app-builder-lib/package.json'))] }));

type Config = Record<string, any>;

async function loadConfig(): Promise<Config> {
  const config = await getConfig(repoRoot, path.join(repoRoot, 'electron.config.ts'), null);
  await validateConfiguration(config, new DebugLogger(false));
  return config;
}

const matchesAny = (file: string, patterns: string[]) => patterns.some((p) => minimatch(file, p, { dot: true }));

/** electron-builder's `files`: a file goes in when a pattern takes it and no "!" pattern drops it. */
function packaged(config: Config, file: string): boolean {
  const patterns: string[] = config.files.flatMap((f: string | { filter: string[] }) => (typeof f === 'string' ? [f] : f.filter));
  const excluded = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  return matchesAny(file, patterns.filter((p) => !p.startsWith('!'))) && !matchesAny(file, excluded);
}

describe('electron.config.ts', () => {
  it('passes electron-builder validation, which does reject a wrong key', async () => {
    const config = await loadConfig();
    await expect(validateConfiguration({ ...config, asarUnpak: ['x'] }, new DebugLogger(false))).rejects.toThrow(/asarUnpak/);
  });

  it('builds AppImage and deb on Linux, dmg on macOS, nsis on Windows', async () => {
    const config = await loadConfig();
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.linux.maintainer).toMatch(/<.+@.+>/); // deb refuses to build without one
  });

  it('packages the Electron version package-lock.json pins, without electron inside the app', async () => {
    const config = await loadConfig();
    const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8'));
    expect(config.electronVersion).toBe(lock.packages['node_modules/electron'].version);
    expect(config.electronVersion).toMatch(/^41\./);
    expect(packaged(config, 'node_modules/electron/dist/electron')).toBe(false);
  });

  it('takes the compiled main process and renderer, and unpacks sharp, tfjs-node and the worker script', async () => {
    const config = await loadConfig();
    expect(packaged(config, 'package.json')).toBe(true);
    expect(packaged(config, 'dist/main/shell/electron/main.js')).toBe(true);
    expect(packaged(config, 'dist/main/shell/preload/preload.js')).toBe(true);
    expect(packaged(config, 'dist/main/core/detect/detect-worker.js')).toBe(true);
    expect(packaged(config, 'dist/renderer/index.html')).toBe(true);
    expect(packaged(config, 'dist/main/shell/electron/main.js.map')).toBe(false);
    expect(packaged(config, 'src-main/shell/electron/main.ts')).toBe(false);
    for (const file of [
      'node_modules/sharp/lib/index.js',
      'node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64.node',
      'node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node',
      'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
      'dist/main/core/detect/detect-worker.js',
    ]) {
      expect(matchesAny(file, config.asarUnpack), file).toBe(true);
    }
    expect(matchesAny('dist/main/core/detect/detector.js', config.asarUnpack)).toBe(false);
  });

  it("ships every model's manifest and installed weights as extra resources in models/, and nothing else", async () => {
    const config = await loadConfig();
    const [models] = config.extraResources;
    expect(models).toMatchObject({ from: 'models', to: 'models' });
    const root = path.join(repoRoot, 'models');
    // A detector's manifest.json, or the weights.json of the pose model a detector may take.
    const describedBy = (id: string) => ['manifest.json', 'weights.json'].find((f) => fs.existsSync(path.join(root, id, f)));
    const ids = fs.readdirSync(root).filter((id) => describedBy(id));
    expect(ids).toEqual(expect.arrayContaining(['coco-nanodet', 'pose-movenet-lightning']));
    for (const id of fs.readdirSync(root)) {
      if (!fs.statSync(path.join(root, id)).isDirectory()) continue;
      const shipped = fs.readdirSync(path.join(root, id)).filter((f) => matchesAny(`${id}/${f}`, models.filter));
      const described = describedBy(id);
      if (!described) {
        expect(shipped, `${id} has no manifest`).toEqual([]);
        continue;
      }
      const manifest = JSON.parse(fs.readFileSync(path.join(root, id, described), 'utf8'));
      const weights = manifest.weights.map((w: { file: string }) => w.file).filter((f: string) => fs.existsSync(path.join(root, id, f)));
      expect(shipped.sort(), id).toEqual([described, ...weights].sort());
    }
  });

  it('has an icon of at least 512 x 512 pixels in build/', async () => {
    const config = await loadConfig();
    expect(config.directories.buildResources).toBe('build');
    const meta = await sharp(path.join(repoRoot, 'build/icon.png')).metadata();
    expect(meta.format).toBe('png');
    expect(Math.min(meta.width!, meta.height!)).toBeGreaterThanOrEqual(512);
    expect(meta.width).toBe(meta.height);
    for (const size of [16, 32, 48, 256, 512]) {
      const icon = await sharp(path.join(repoRoot, `build/icons/${size}x${size}.png`)).metadata();
      expect([icon.width, icon.height]).toEqual([size, size]);
    }
  });

  it('is run by npm run dist', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.scripts.dist).toMatch(/electron-builder .*--config electron\.config\.ts/);
    expect(pkg.main).toBe('dist/main/shell/electron/main.js');
  });
});
