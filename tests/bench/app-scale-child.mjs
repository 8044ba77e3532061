// npm run bench -- --app-scale N [--app-label M]: the app's workspace service on a folder of N photos,
// in a fresh process. Prints its figures as JSON on stdout (progress on stderr):
//   open (walk, stat, list), the image list the window asks for, labelling M photos with RSS at photo
//   1,000 and at the end and the main thread's longest stall, a COCO import and export of all N, a
//   snapshot, and a reopen that restores everything.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({ options: { dir: { type: 'string' }, 'data-dir': { type: 'string' }, label: { type: 'string', default: '0' }, workers: { type: 'string' } } });
const { WorkspaceService } = require(path.join(root, 'dist/main/workspace/service.js'));
const { cocoDocumentSchema, cocoProblems } = require(path.join(root, 'dist/main/core/formats/coco.js'));

const mb = (bytes) => Math.round(bytes / 2 ** 20);
const log = (line) => process.stderr.write(`app-scale: ${line}\n`);
const stall = monitorEventLoopDelay({ resolution: 10 });
stall.enable();
/** Runs one phase; returns its seconds and the longest the main thread could not answer during it. */
async function phase(name, work) {
  stall.reset();
  const t0 = performance.now();
  const value = await work();
  const seconds = (performance.now() - t0) / 1000;
  const maxStallMs = stall.max / 1e6;
  log(`${name}: ${seconds.toFixed(2)} s, longest stall ${maxStallMs.toFixed(0)} ms`);
  return { seconds, maxStallMs, value };
}

let onBatchEnd = null;
let onProgress = null;
const makeService = () =>
  new WorkspaceService({
    dataDir: values['data-dir'],
    workers: values.workers ? Number(values.workers) : undefined,
    autoLabelLimit: 0,
    allowPath: () => true,
    emit(event) {
      if (event.type === 'progress') {
        onProgress?.(event.batch);
        if (!event.batch.running) onBatchEnd?.(event.batch);
      } else if (event.type === 'error') log(`error: ${event.message}`);
    },
  });

const service = makeService();
const open = await phase('open', () => service.openPaths({ paths: [values.dir] }));
const list = await phase('image list', () => service.getWorkspace());
const ids = list.value.images.map((i) => i.id);
const n = ids.length;

let labelling = null;
const toLabel = Math.min(Number(values.label), n);
if (toLabel > 0) {
  let rssAt1000MB = null;
  let rssAtEndMB = 0;
  // The window asks for the list while the batch runs: how long it waits is what a person feels.
  let slowestListMs = 0;
  const poll = setInterval(async () => {
    const t0 = performance.now();
    await service.getWorkspace();
    slowestListMs = Math.max(slowestListMs, performance.now() - t0);
  }, 1000);
  let lastLog = 0;
  onProgress = (b) => {
    const finished = b.done + b.failed;
    const rss = process.memoryUsage().rss;
    if (rssAt1000MB === null && finished >= 1000) rssAt1000MB = mb(rss);
    if (finished === b.total) rssAtEndMB = mb(rss);
    if (finished - lastLog >= 500) {
      lastLog = finished;
      log(`labelled ${finished}/${b.total}, ${b.imagesPerSecond.toFixed(1)} img/s, RSS ${mb(rss)} MB`);
    }
  };
  const run = await phase(`label ${toLabel}`, async () => {
    const ended = new Promise((resolve) => (onBatchEnd = resolve));
    await service.labelImages({ ids: ids.slice(0, toLabel) });
    return ended;
  });
  clearInterval(poll);
  onProgress = null;
  labelling = { images: toLabel, seconds: run.seconds, imagesPerSecond: toLabel / run.seconds, done: run.value.done, failed: run.value.failed, rssAt1000MB, rssAtEndMB, maxStallMs: run.maxStallMs, slowestListMs };
}

// A COCO file with three boxes on every photo, as another tool would have written it.
const doc = {
  images: list.value.images.map((img, k) => ({ id: k + 1, file_name: img.name, width: 320, height: 480 })),
  annotations: list.value.images.flatMap((_, k) => [1, 2, 3].map((j) => ({ id: k * 3 + j, image_id: k + 1, category_id: j, bbox: [10 * j, 20 * j, 100, 120], area: 12000, iscrowd: 0 }))),
  categories: [1, 2, 3].map((id) => ({ id, name: ['top', 'outerwear', 'pants'][id - 1], supercategory: 'clothing' })),
};
const text = JSON.stringify(doc);
const imported = await phase('import', () => service.importCoco({ text }));
const exported = await phase('export', () => service.exportAnnotations({ format: 'coco', filter: { minScore: 0, verifiedOnly: false } }));
const written = cocoDocumentSchema.safeParse(JSON.parse(fs.readFileSync(exported.value.target, 'utf8')));
const cocoValid = written.success && cocoProblems(written.data).length === 0 && written.data.images.length === n;
const saved = await phase('snapshot', () => service.saveNow());
const projectMB = fs.statSync(saved.value.file).size / 2 ** 20;
await service.close();

const again = makeService();
const reopen = await phase('reopen', () => again.openPaths({ paths: [values.dir] }));
await again.close();

console.log(
  JSON.stringify({
    images: n,
    problems: open.value.problems.length,
    open: { seconds: open.seconds, maxStallMs: open.maxStallMs },
    imageList: { ms: list.seconds * 1000 },
    labelling,
    import: { seconds: imported.seconds, maxStallMs: imported.maxStallMs, matched: imported.value.matched, annotations: imported.value.annotations, fileMB: Buffer.byteLength(text) / 2 ** 20 },
    export: { seconds: exported.seconds, images: exported.value.images, annotations: exported.value.annotations, cocoValid },
    snapshot: { seconds: saved.seconds, projectMB },
    reopen: { seconds: reopen.seconds, restored: reopen.value.restored },
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
