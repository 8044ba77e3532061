#!/usr/bin/env node
// What the wearer's pose costs a training: seconds to read a photo through the base (fashion-ccp's
// recipe: 384x576, three tail units) with and without MoveNet Lightning, photo by photo in one process,
// alternating, so that a busy machine weighs on both alike (wasm, one thread, no cache). The ratio is
// POSE_READ_RATIO in src-main/core/train/estimate.ts, which the window's training estimate uses.
// Usage (after npm run build, beside ../shared): node tests/bench/train-read-cost.mjs [--photos 60]
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const core = (m) => require(path.join(root, 'dist/main/core', m));
const { values } = parseArgs({ options: { photos: { type: 'string', default: '60' } } });
const photos = path.resolve(root, '../shared/datasets/ccp-fashion/train/images');
if (!fs.existsSync(photos)) {
  console.error(`${photos} is missing: this bench reads CCP photos`);
  process.exit(2);
}
const { backendDetails, initBackend } = core('base/backend.js');
const { resolveModel } = core('models/registry.js');
const { nanodetBaseSpec, loadBaseGraph } = core('models/fpn-base.js');
const { loadPoseModel } = core('models/pose.js');
const { photoFeatures } = core('train/features.js');
await initBackend();

const base = resolveModel('coco-nanodet');
const spec = nanodetBaseSpec(base.manifest, 384, 576, 3);
const graph = await loadBaseGraph(base.dir, base.manifest.modelFile, 384, 576, spec.int32Overrides);
const plain = { graph, outputs: spec.outputs, input: { ...base.manifest.input, width: 384, height: 576 }, fingerprint: 'bench' };
const withPose = { ...plain, pose: await loadPoseModel() };
const files = fs.readdirSync(photos).filter((f) => f.endsWith('.jpg')).sort().slice(0, Number(values.photos)).map((f) => path.join(photos, f));
// Warm-up: the first runs compile the graphs.
for (const file of files.slice(0, 3)) for (const extractor of [plain, withPose]) await photoFeatures(extractor, file, { flip: false, zoom: 1 });
const ms = { plain: 0, pose: 0 };
for (const [i, file] of files.entries()) {
  // The variants a training reads (mirrored, smaller), and which goes first, taken in turn.
  const variant = { flip: i % 3 === 0, zoom: i % 4 === 0 ? 0.8 : 1 };
  for (const kind of i % 2 ? ['plain', 'pose'] : ['pose', 'plain']) {
    const start = performance.now();
    await photoFeatures(kind === 'pose' ? withPose : plain, file, variant);
    ms[kind] += performance.now() - start;
  }
}
const per = (kind) => (ms[kind] / files.length).toFixed(1);
console.log(`${JSON.stringify(backendDetails())}, ${files.length} photos`);
console.log(`read through the base: ${per('plain')} ms a photo; with MoveNet: ${per('pose')} ms; ratio ${(ms.pose / ms.plain).toFixed(3)}`);
