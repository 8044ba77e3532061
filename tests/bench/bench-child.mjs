// One benchmark configuration in a fresh process; prints its figures as JSON on stdout.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const core = (m) => require(path.join(root, 'dist/main/core', m));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { dir: { type: 'string' }, out: { type: 'string' }, workers: { type: 'string' }, model: { type: 'string' }, runs: { type: 'string', default: '30' } },
});
const { resolveModel } = core('models/registry.js');
const model = resolveModel(values.model);
// As the CLI labels: from the model's own default minimum score.
const minScore = core('models/manifest.js').defaultMinScoreOf(model.manifest);

if (positionals[0] === 'forward') {
  const { Detector } = core('detect/detector.js');
  const { backendDetails, tf } = core('base/backend.js');
  const detector = await Detector.load(model);
  const { width, height, layout } = model.manifest.input;
  const input = tf.randomUniform(layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3]);
  const times = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const t0 = performance.now();
    detector.forward(input);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ model: `${model.manifest.id}@${model.manifest.version}`, backend: backendDetails().backend, forwardMs: { median: times[times.length >> 1], min: times[0], runs: times.length } }));
} else if (positionals[0] === 'scale') {
  const { labelFolder } = core('label/label-folder.js');
  const { findImages } = core('images/walk.js');
  const { cocoDocumentSchema, cocoProblems } = core('formats/coco.js');
  const t0 = performance.now();
  await findImages(values.dir);
  const walkSeconds = (performance.now() - t0) / 1000;
  let rssAt1000MB = 0;
  let rssAtEndMB = 0;
  const r = await labelFolder({
    dir: values.dir,
    model,
    minScore,
    onProgress: (p) => {
      // Sampled while the workers still run: after labelFolder returns they are gone.
      const rss = process.memoryUsage().rss / 2 ** 20;
      if (p.done + p.failed === 1000) rssAt1000MB = rss;
      if (p.done + p.failed === p.total) rssAtEndMB = rss;
      if ((p.done + p.failed) % 500 === 0) process.stderr.write(`scale: ${p.done + p.failed}/${p.total}, ${p.imagesPerSecond.toFixed(1)} img/s, RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB\n`);
    },
  });
  const parsed = cocoDocumentSchema.safeParse(r.doc);
  console.log(JSON.stringify({ labelled: r.labelled, failed: r.problems.length, workers: r.workers, seconds: r.elapsedMs / 1000, imagesPerSecond: r.labelled / (r.elapsedMs / 1000), walkSeconds, rssAt1000MB, rssAtEndMB, maxRssMB: process.resourceUsage().maxRSS / 1024, cocoValid: parsed.success && cocoProblems(parsed.data).length === 0 }));
} else {
  const { labelFolder } = core('label/label-folder.js');
  const r = await labelFolder({ dir: values.dir, model, minScore, workers: Number(values.workers) });
  const n = Math.max(1, r.labelled);
  const perImage = Object.fromEntries(Object.entries(r.stageTotals).map(([k, v]) => [k, v / n]));
  console.log(JSON.stringify({ workers: r.workers, labelled: r.labelled, failed: r.problems.length, seconds: r.elapsedMs / 1000, imagesPerSecond: r.labelled / (r.elapsedMs / 1000), perImage, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
}
