import path from 'node:path';
import { DetectorPool, defaultWorkerCount } from '../core/detect/detector-pool.js';
import { defaultMinScoreOf } from '../core/models/manifest.js';
import { FileProblem } from '../core/base/errors.js';
import { resolveModel } from '../core/models/registry.js';
import { EXIT } from './exit-codes.js';

export async function runDetect(files: string[], opts: { model?: string; minScore?: number }): Promise<number> {
  const model = resolveModel(opts.model);
  const pool = await DetectorPool.start(model, { minScore: opts.minScore ?? defaultMinScoreOf(model.manifest), workers: Math.min(files.length, defaultWorkerCount()) });
  let failed = 0;
  try {
    // Results print in the order the files were given, each as soon as it and those before it are done.
    const results = files.map((f) => pool.detect(path.resolve(f)).then((r) => ({ ok: true as const, r }), (e: Error) => ({ ok: false as const, e })));
    for (let i = 0; i < files.length; i++) {
      const outcome = await results[i];
      if (outcome.ok) {
        const { width, height, detections } = outcome.r;
        process.stdout.write(JSON.stringify({ file: files[i], width, height, detections }) + '\n');
      } else {
        failed++;
        const reason = outcome.e instanceof FileProblem ? outcome.e.reason : outcome.e.message;
        console.error(`fashion-detect: ${files[i]}: ${reason}`);
      }
    }
  } finally {
    await pool.close();
  }
  return failed > 0 ? EXIT.someFilesFailed : EXIT.ok;
}
