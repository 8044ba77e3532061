// A real process running the workspace service (from dist/), for the tests that must kill it or run it
// as another user. It prints one JSON object per line on stdout:
//   {"event":"opened", added, restored, waiting, problems}
//   {"event":"open-failed", message}                    the folder could not be opened
//   {"event":"labelled", name, state, reason, count}   each image the detector finished (done or failed)
//   {"event":"saved", name, state, boxes}              each image once the service said it is on disk
//   {"event":"paused", file}                           (--pause-rename) stopped between temp write and rename
//   {"event":"finished", batch}                        the batch ended
// Usage: node workspace-child.mjs label|edit|probe --dir D --data-dir DD [--workers 1] [--edits N] [--shift X] [--pause-rename NAME]
//   label: open D and label every pending image.
//   edit:  open D, put one verified box (at x = 5 + X) on each of the first N images (waiting for each to be saved),
//          then write a snapshot (saveNow).
// --pause-rename NAME: the first atomic write whose target is named NAME (project.json or journal.jsonl),
// once armed, stops after its temporary file is written and fsynced and before the rename, so that the
// test can SIGKILL the process in the middle of a save. Nothing in the service knows about it.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string' },
    'data-dir': { type: 'string' },
    workers: { type: 'string', default: '1' },
    edits: { type: 'string', default: '5' },
    'pause-rename': { type: 'string' },
    shift: { type: 'string', default: '0' },
  },
});
const mode = positionals[0];
const print = (obj) => fs.writeSync(1, JSON.stringify(obj) + '\n');

let armed = false;
if (values['pause-rename']) {
  const rename = fs.renameSync;
  fs.renameSync = function (from, to) {
    if (armed && path.basename(String(to)) === values['pause-rename']) {
      print({ event: 'paused', file: String(to), tmp: String(from) });
      // Block the whole process (no timer, no I/O runs) until the test kills it.
      const cell = new Int32Array(new SharedArrayBuffer(4));
      for (;;) Atomics.wait(cell, 0, 0, 60_000);
    }
    return rename.call(this, from, to);
  };
}

const { WorkspaceService } = require(path.join(root, 'dist/main/workspace/service.js'));
if (mode === 'probe') {
  // Whether this user can load the service at all (the tests that run it as `nobody` ask first).
  print({ event: 'probe', ok: typeof WorkspaceService === 'function' });
  process.exit(0);
}

const finishedSinceSave = new Set();
const savedWaiters = [];
/** Saved lines on their way out (getImage may read a picture's size first). */
const printing = [];
let batchEnded;
const batchDone = new Promise((resolve) => (batchEnded = resolve));
let service;

service = new WorkspaceService({
  dataDir: values['data-dir'],
  workers: Number(values.workers),
  autoLabelLimit: 0,
  allowPath: () => true,
  emit(event) {
    if (event.type === 'image' && (event.image.state === 'done' || event.image.state === 'failed')) {
      finishedSinceSave.add(event.image.id);
      if (mode === 'label') print({ event: 'labelled', name: event.image.name, state: event.image.state, reason: event.image.reason, count: event.image.count });
    } else if (event.type === 'saved' && event.save.unsaved === 0) {
      // Nothing is waiting or being written: every change so far is on the disk.
      const ids = [...finishedSinceSave];
      finishedSinceSave.clear();
      for (const id of ids) {
        printing.push(service.getImage({ id }).then((img) => print({ event: 'saved', name: img.name, state: img.state, boxes: img.boxes })));
      }
      for (const w of savedWaiters.splice(0)) w(event.save.savedThrough);
    } else if (event.type === 'progress' && !event.batch.running) {
      batchEnded(event.batch);
    } else if (event.type === 'error') {
      print({ event: 'error', message: event.message });
    }
  },
});

let opened;
try {
  opened = await service.openPaths({ paths: [values.dir] });
} catch (err) {
  print({ event: 'open-failed', message: err.message });
  await service.close();
  process.exit(0);
}
print({ event: 'opened', added: opened.added, restored: opened.restored, waiting: opened.waiting, problems: opened.problems });

if (mode === 'label') {
  const { queued } = await service.labelAll();
  const batch = queued > 0 ? await batchDone : null;
  print({ event: 'finished', queued, batch });
} else if (mode === 'edit') {
  const ws = await service.getWorkspace();
  for (const img of ws.images.slice(0, Number(values.edits))) {
    const saved = new Promise((resolve) => savedWaiters.push(resolve));
    await service.updateBoxes({ id: img.id, boxes: [{ id: `edit_${img.id}`, categoryId: 7, score: 1, bbox: [5 + Number(values.shift), 6, 20, 10], verified: true }] });
    await saved;
  }
  await Promise.all(printing);
  armed = true;
  await service.saveNow();
  print({ event: 'snapshot' });
}
await service.close();
print({ event: 'closed' });
