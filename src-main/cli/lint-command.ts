import fs from 'node:fs';
import { UsageError } from '../core/base/errors.js';
import { checkCocoStructure, readJsonFile } from '../core/lint/coco-input.js';
import { lintPhotos } from '../core/lint/lint.js';
import { modelDisagreements } from '../core/lint/model-check.js';
import { byScore, type LintCategory, type Problem } from '../core/lint/photos.js';
import { resolveModel, type ResolvedModel } from '../core/models/registry.js';
import { EXIT } from './exit-codes.js';
import { stopOnInterrupt } from './interrupt.js';
import { progressReport, type ProgressKind } from './progress-report.js';

export interface LintOptions {
  images?: string;
  model?: string;
  json?: boolean;
  workers?: number;
  progress: ProgressKind;
}

/** The categories a model labels once per photo, as ids of the file's categories (matched by name). */
function singleInstanceOf(model: ResolvedModel, categories: readonly LintCategory[]): number[] {
  const names = new Set(
    (model.manifest.singleInstanceCategories ?? []).map((id) => model.manifest.categories.find((c) => c.id === id)?.name.toLowerCase()),
  );
  return categories.filter((c) => names.has(c.name.toLowerCase())).map((c) => c.id);
}

async function modelProblems(file: string, structure: ReturnType<typeof checkCocoStructure>, model: ResolvedModel, opts: LintOptions): Promise<Problem[]> {
  const report = progressReport(opts.progress, `checking with model ${model.manifest.id}`);
  const interrupt = stopOnInterrupt('listing what was found so far');
  let result;
  try {
    result = await modelDisagreements(structure.photos, structure.categories, {
      imagesDir: opts.images!,
      model,
      workers: opts.workers,
      signal: interrupt.signal,
      onStart: (total) => report.start(total),
      onProgress: (done) => report.update(done),
    });
  } finally {
    report.stop();
    interrupt.release();
  }
  if (result.unknownCategories.length > 0) process.stderr.write(`not checked with the model (it has no such category): ${result.unknownCategories.join(', ')}\n`);
  if (result.unreadable.length > 0) {
    process.stderr.write(`${result.unreadable.length} photos of ${file} could not be read:\n`);
    for (const u of result.unreadable) process.stderr.write(`  ${u.name}: ${u.reason}\n`);
  }
  return result.problems;
}

/** Lists what looks wrong in a COCO file, structural faults first; exit 3 when anything is listed. */
export async function runLint(file: string, opts: LintOptions): Promise<number> {
  if (opts.images && !(fs.existsSync(opts.images) && fs.statSync(opts.images).isDirectory())) throw new UsageError(`--images ${opts.images}: no such folder`);
  if (opts.model && !opts.images) throw new UsageError('--model goes with --images: the model is run on the photos');
  const model = opts.images ? resolveModel(opts.model) : undefined;
  const structure = checkCocoStructure(readJsonFile(file), file);
  const found = lintPhotos(structure.photos, structure.categories, { singleInstanceCategoryIds: model ? singleInstanceOf(model, structure.categories) : [] });
  const problems = [...structure.faults, ...found.problems];
  if (model) problems.push(...(await modelProblems(file, structure, model, opts)));
  problems.sort(byScore);
  const round = (v: number) => Math.round(v * 100) / 100;
  if (opts.json) {
    const list = problems.map((p) => ({ annotation_id: p.boxId, image_id: p.photoId, kind: p.kind, message: p.message, score: round(p.score) }));
    process.stdout.write(`${JSON.stringify({ problems: list })}\n`);
  } else {
    for (const p of problems) {
      const where = p.boxId !== null ? `annotation ${p.boxId}${p.photo ? ` (${p.photo})` : ''}` : p.photo ?? (p.photoId !== null ? `image ${p.photoId}` : 'file');
      process.stdout.write(`${where}: ${p.message} [${p.kind}, ${round(p.score)}]\n`);
    }
  }
  const boxes = new Set(problems.filter((p) => p.boxId !== null).map((p) => p.boxId)).size;
  process.stderr.write(
    `${file}: ${structure.imageCount} images, ${structure.annotationCount} boxes: ` +
      (problems.length === 0 ? 'nothing looks wrong\n' : `${problems.length} problems (${structure.faults.length} structural) on ${boxes} boxes\n`),
  );
  return problems.length === 0 ? EXIT.ok : EXIT.problemsFound;
}
