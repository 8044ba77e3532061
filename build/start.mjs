#!/usr/bin/env node
// `npm start`: the desktop app where Electron is installed; otherwise one line that says why, and the
// same app served to the browser on localhost (the browser build). Builds first when the build is
// missing or older than the sources.
//
//   npm start                    the desktop app (or the browser build)
//   npm start -- --browser       the browser build even where Electron is installed
//   npm start -- <photos/folder> open these in the desktop app
//   npm start -- --no-build      start with what is built, without checking the build first
//   npm start -- --port 5178     (browser build) any option of `npm run web` is passed on
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));

const shellMain = path.join(root, 'dist/main/shell/electron/main.js');
const webServer = path.join(root, 'dist/main/shell/web/main.js');
const rendererIndex = path.join(root, 'dist/renderer/index.html');

/** Newest modification time of the files under `dir` (0 when it does not exist). */
function newestMtime(dir) {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function ensureBuilt() {
  // The renderer's build is checked once it has sources.
  const outputs = [shellMain, webServer, ...(fs.existsSync(path.join(root, 'src-renderer/index.html')) ? [rendererIndex] : [])];
  const missing = outputs.filter((f) => !fs.existsSync(f));
  const sources = Math.max(newestMtime(path.join(root, 'src-main')), newestMtime(path.join(root, 'src-renderer')));
  const built = missing.length > 0 ? 0 : Math.min(...outputs.map((f) => fs.statSync(f).mtimeMs));
  if (missing.length === 0 && built >= sources) return;
  console.log(missing.length > 0 ? `Building first (${path.relative(root, missing[0])} is missing)...` : 'Building first (the sources changed)...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) {
    console.error('npm start: the build failed (see above).');
    process.exit(result.status ?? 1);
  }
  const stillMissing = outputs.filter((f) => !fs.existsSync(f));
  if (stillMissing.length > 0) console.warn(`npm start: npm run build did not make ${stillMissing.map((f) => path.relative(root, f)).join(', ')}`);
}

/** The Electron binary, or why the desktop app cannot open here. */
export function findElectron(env = process.env, platform = process.platform) {
  if (env.FASHION_DETECT_BROWSER === '1') return { reason: 'FASHION_DETECT_BROWSER=1 asks for the browser build' };
  let binary;
  try {
    require.resolve('electron/package.json');
  } catch {
    return { reason: 'Electron is not installed (it is an optional dependency and npm skips it when its download fails)' };
  }
  try {
    // The electron package exports the path of the binary it downloaded; it throws when there is none.
    binary = require('electron');
  } catch (err) {
    return { reason: `Electron's binary is not installed (${String(err.message).split('\n')[0]})` };
  }
  if (typeof binary !== 'string' || !fs.existsSync(binary)) return { reason: `Electron's binary is missing (${binary})` };
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return { reason: 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  return { binary };
}

function forwardSignals(child) {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null) child.kill(signal);
    });
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function startDesktop(binary, args) {
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE; // would make Electron behave as plain Node
  const child = spawn(binary, [root, ...args], { cwd: root, stdio: 'inherit', env });
  child.on('error', (err) => {
    console.error(`npm start: Electron could not start: ${err.message}. Try the browser build: npm start -- --browser`);
    process.exit(1);
  });
  forwardSignals(child);
}

function startBrowserBuild(args) {
  if (!fs.existsSync(webServer)) {
    console.error(`npm start: the browser build's server (${path.relative(root, webServer)}) is not built: run npm run build`);
    process.exit(1);
  }
  // Paths cannot be opened by the browser build (it serves only what is dropped on its page).
  const paths = args.filter((a, i) => !a.startsWith('-') && !['-d', '--data-dir'].includes(args[i - 1]) && fs.existsSync(a));
  if (paths.length > 0) console.log(`The browser build does not open paths (${paths.join(', ')}): drop the photos or folder on its page.`);
  const serverArgs = args.filter((a) => !paths.includes(a));
  // The server prints the address it listens on (127.0.0.1 only); it serves until Ctrl-C.
  const child = spawn(process.execPath, [webServer, ...serverArgs], { cwd: root, stdio: 'inherit' });
  forwardSignals(child);
}

function main() {
  const argv = process.argv.slice(2);
  const forceBrowser = argv.includes('--browser');
  const args = argv.filter((a) => a !== '--browser' && a !== '--no-build');
  if (!argv.includes('--no-build')) ensureBuilt();
  const electron = forceBrowser ? { reason: '--browser asks for the browser build' } : findElectron();
  if (electron.binary) {
    startDesktop(electron.binary, args);
    return;
  }
  console.log(`The desktop app cannot open: ${electron.reason}. Serving the same app in your browser instead.`);
  startBrowserBuild(args);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
