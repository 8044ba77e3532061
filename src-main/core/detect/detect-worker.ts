// A worker thread with its own model. It starts decoding each photo as soon as the pool hands it over,
// so the next photo is being decoded (by sharp, on libuv's threads) while this one runs through the model.
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { backendDetails } from '../base/backend.js';
import { Detector } from './detector.js';
import { FileProblem } from '../base/errors.js';
import { hashLetterboxed } from '../dedupe/hash-file.js';
import type { LetterboxedImage } from '../images/decode.js';
import { readManifest } from '../models/registry.js';
import type { WorkerReply, WorkerRequest, WorkerSetup } from './detector-pool.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
// One libvips thread per worker: the pool already uses every core, one worker per core.
sharp.concurrency(1);
sharp.cache(false);
lowerThisThreadsPriority();

/**
 * Labelling yields to the window: with a worker per core busy, the window (the renderer, and the app's
 * main thread) would otherwise get a share of the CPU no larger than one worker's and drop frames.
 * Linux gives each thread its own nice value; elsewhere a process has one, so it is left alone there.
 */
function lowerThisThreadsPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) os.setPriority(tid, Math.max(os.getPriority(tid), 10));
  } catch {
    // No /proc, or not allowed: run at the normal priority.
  }
}

interface Pending {
  id: number;
  file: string;
  decoded: Promise<{ image: LetterboxedImage; ms: number }>;
}

const queue: Pending[] = [];
let running = false;
let detector: Detector;

const send = (reply: WorkerReply) => port.postMessage(reply);

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  while (queue.length > 0) {
    const task = queue.shift()!;
    try {
      const { image, ms } = await task.decoded;
      const result = detector.detect(task.file, image, setup.minScore, ms);
      if (setup.hash) {
        // The picture is decoded here anyway: its perceptual hash costs about a millisecond more.
        const t0 = performance.now();
        result.hash = hashLetterboxed(image);
        result.timings.hashMs = performance.now() - t0;
      }
      send({ type: 'result', id: task.id, result });
    } catch (err) {
      const reason = err instanceof FileProblem ? err.reason : err instanceof Error ? err.message : String(err);
      send({ type: 'failed', id: task.id, file: task.file, reason });
    }
  }
  running = false;
}

port.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'detect') {
    const t0 = performance.now();
    const decoded = detector.readImage(msg.file).then((image) => ({ image, ms: performance.now() - t0 }));
    decoded.catch(() => undefined); // reported when its turn comes
    queue.push({ id: msg.id, file: msg.file, decoded });
    void drain();
  } else if (msg.type === 'close') {
    detector.dispose();
    port.close();
  }
});

(async () => {
  try {
    detector = await Detector.load({ dir: setup.modelDir, manifest: readManifest(setup.modelDir) });
    send({ type: 'ready', backend: backendDetails().backend });
  } catch (err) {
    send({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
  }
})();
