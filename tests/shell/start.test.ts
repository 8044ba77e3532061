// `npm start` (build/start.mjs): where the Electron binary is missing it says why in one line and
// serves the same app to the browser on 127.0.0.1; it stops cleanly on Ctrl-C / SIGTERM.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers';

const startScript = path.join(repoRoot, 'build/start.mjs');
const electronInstalled = (() => {
  try {
    const binary = createRequire(path.join(repoRoot, 'package.json'))('electron');
    return typeof binary === 'string' && fs.existsSync(binary);
  } catch {
    return false;
  }
})();
const dataDir = tempDir('fd-shell-start-');
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe('npm start', () => {
  it('names why the desktop app cannot open', async () => {
    const { findElectron } = await import(startScript);
    expect(findElectron({ FASHION_DETECT_BROWSER: '1' }).reason).toMatch(/browser build/);
    if (electronInstalled) {
      expect(findElectron({ DISPLAY: ':0' }, 'linux')).toHaveProperty('binary');
      expect(findElectron({}, 'linux').reason).toMatch(/no display/);
    } else {
      expect(findElectron({ DISPLAY: ':0' }, 'linux').reason).toMatch(/^Electron('s binary)? is not installed/);
    }
  });

  it('serves the browser build on 127.0.0.1 where Electron cannot open, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [startScript, '--browser', '--no-build', '--port', '0', '--data-dir', dataDir, '--workers', '1'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stderr.on('data', (d) => (out += d));
    const url = await new Promise<URL>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const match = /is at (http:\/\/\S+)/.exec(out);
        if (match) resolve(new URL(match[1]));
      });
      child.on('exit', (code) => reject(new Error(`npm start exited (${code}): ${out}`)));
    });
    const [firstLine] = out.split('\n');
    expect(firstLine).toBe('The desktop app cannot open: --browser asks for the browser build. Serving the same app in your browser instead.');
    expect(url.hostname).toBe('127.0.0.1');
    const res = await fetch(new URL('/api/getWorkspace', url), { method: 'POST', headers: { 'content-type': 'application/json', 'x-fashion-detect': '1' }, body: '{}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, value: { features: { uploads: true, dialogs: false } } });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
