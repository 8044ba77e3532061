// electron-builder's configuration: `npm run dist` builds the installers for the running OS into release/.
// It needs internet the first time (electron-builder downloads the Electron release zip and its
// packaging tools); see "Desktop app and installers" in docs/app.md.
import fs from 'node:fs';
import path from 'node:path';
import type { Configuration } from 'electron-builder';

/**
 * The Electron version to package: the installed one, else the one package-lock.json pins. Set
 * explicitly because electron is an optional dependency and may be absent where this config is read.
 */
function electronVersion(): string {
  const installed = path.join(__dirname, 'node_modules/electron/package.json');
  if (fs.existsSync(installed)) return JSON.parse(fs.readFileSync(installed, 'utf8')).version;
  const lock = JSON.parse(fs.readFileSync(path.join(__dirname, 'package-lock.json'), 'utf8'));
  const locked = lock.packages?.['node_modules/electron']?.version;
  if (!locked) throw new Error('electron is neither installed nor pinned in package-lock.json');
  return locked;
}

/**
 * What of models/ ships: each model's manifest.json (or weights.json, for the pose model a detector
 * may take) and the weight files it names (as installed). A folder without either (a model still
 * being trained, its checkpoints) stays out.
 */
function modelFiles(): string[] {
  const root = path.join(__dirname, 'models');
  const files: string[] = [];
  for (const id of fs.readdirSync(root).sort()) {
    const described = ['manifest.json', 'weights.json'].find((f) => fs.existsSync(path.join(root, id, f)));
    if (!described) continue;
    const manifest = JSON.parse(fs.readFileSync(path.join(root, id, described), 'utf8')) as { modelFile?: string; weights?: Array<{ file: string }> };
    const named = new Set([...(manifest.weights ?? []).map((w) => w.file), ...(manifest.modelFile ? [manifest.modelFile] : [])]);
    files.push(`${id}/${described}`, ...[...named].filter((f) => fs.existsSync(path.join(root, id, f))).map((f) => `${id}/${f}`));
  }
  return files;
}

const config: Configuration = {
  appId: 'app.fashion-detect.desktop',
  productName: 'Fashion Detect',
  copyright: 'Copyright © Fashion Detect contributors',
  electronVersion: electronVersion(),
  directories: { output: 'release', buildResources: 'build' },
  // The compiled main process and renderer; production node_modules are added by electron-builder.
  files: [
    'package.json',
    'dist/main/**/*.js',
    'dist/renderer/**/*',
    '!**/*.map',
    // electron is an optional dependency (so `npm install` works where its binary cannot download):
    // the runtime itself is not part of the app.
    '!node_modules/electron/**',
    '!node_modules/@electron/get/**',
  ],
  // Native modules and the worker thread's script must be real files on disk, not inside app.asar.
  asarUnpack: [
    'node_modules/sharp/**/*',
    'node_modules/@img/**/*',
    'node_modules/@tensorflow/tfjs-node/**/*',
    'node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm',
    'dist/main/core/detect/detect-worker.js',
  ],
  // The model weights sit beside app.asar; the shell points FASHION_DETECT_MODELS at this folder.
  extraResources: [{ from: 'models', to: 'models', filter: modelFiles() }],
  // sharp and tfjs-node ship Node-API binaries, which load in Electron without a rebuild.
  npmRebuild: false,
  publish: null,
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Graphics',
    icon: 'build/icons',
    maintainer: 'Fashion Detect contributors <fashion-detect@users.noreply.github.com>',
    synopsis: 'Finds fashion items in photos and exports COCO boxes',
  },
  mac: {
    target: ['dmg'],
    category: 'public.app-category.graphics-design',
    icon: 'build/icon.png',
  },
  dmg: { title: 'Fashion Detect ${version}' },
  win: { target: ['nsis'], icon: 'build/icon.png' },
  nsis: { oneClick: false, allowToChangeInstallationDirectory: true, perMachine: false },
};

export default config;
