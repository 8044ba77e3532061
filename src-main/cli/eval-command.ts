import fs from 'node:fs';
import path from 'node:path';
import type { CocoDocument } from '../core/formats/coco.js';
import { UsageError } from '../core/base/errors.js';
import { AP_MIN_SCORE, reportableCategories, parseGroundTruth, parsePredictions, type CocoEvalResult, type Predictions } from '../core/eval/coco-eval.js';
import { evaluateCoco } from '../core/eval/evaluate-coco.js';
import { writePrPlots } from '../core/eval/pr-plot.js';
import { labelFolder } from '../core/label/label-folder.js';
import { defaultMinScoreOf, modelTag } from '../core/models/manifest.js';
import { resolveModel } from '../core/models/registry.js';
import { EXIT } from './exit-codes.js';
import { stopOnInterrupt } from './interrupt.js';

export interface EvalOptions {
  gt: string;
  pred?: string;
  images?: string;
  model?: string;
  minScore: number;
  workers?: number;
  plots?: string;
  json?: boolean;
  /** The score a reviewer sees boxes from, for the edits per photo; by default the model's own. */
  reviewScore?: number;
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === 'ENOENT' ? `no such ${what} file` : code === 'EISDIR' ? 'is a folder, not a JSON file' : (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(3));

function listSome(names: string[], max = 5): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/** What could not be matched, in sentences a person can act on. */
export function matchingNotes(result: CocoEvalResult): string[] {
  const m = result.matching;
  const notes: string[] = [];
  if (m.imageScope === 'predicted' && m.gtImagesNotPredicted.length > 0) {
    notes.push(`${m.gtImagesNotPredicted.length} ground-truth images are not in the predictions and were left out (${listSome(m.gtImagesNotPredicted)})`);
  }
  if (m.imageScope === 'all') notes.push('a bare results array lists no images: every ground-truth image is evaluated, and one without detections counts as all misses');
  if (m.predImagesNotInGt.length > 0) {
    notes.push(`${m.predImagesNotInGt.length} predicted images have no ground-truth image of that file name; their detections were ignored (${listSome(m.predImagesNotInGt)})`);
  }
  if (m.predImagesDuplicated.length > 0) {
    notes.push(`${m.predImagesDuplicated.length} predicted images match a ground-truth image that another predicted image already matched by file name; their detections were ignored (${listSome(m.predImagesDuplicated)})`);
  }
  for (const c of m.predCategoriesNotInGt) {
    notes.push(`predicted category "${c.name}" is not a ground-truth category: ${c.detections} detection${c.detections === 1 ? '' : 's'} ignored`);
  }
  if (m.gtCategoriesNotPredicted.length > 0) {
    notes.push(
      `the predictions do not cover the categories ${listSome(m.gtCategoriesNotPredicted.map((n) => `"${n}"`), 13)}: they count with AP 0 (AP over the categories both sides cover: ${fmt(result.apSharedCategories)})`,
    );
  }
  const noGt = result.perCategory.filter((c) => c.ap === null).map((c) => c.name);
  if (noGt.length > 0) notes.push(`no ground truth for ${listSome(noGt, 13)} on these images: left out of the mean`);
  return notes;
}

export function formatReport(result: CocoEvalResult, extraNotes: string[] = []): string {
  const lines: string[] = [];
  lines.push(`${result.matching.imagesEvaluated} images, ${result.matching.detectionsUsed} detections, up to ${result.maxDetections} per image and category`);
  lines.push('');
  lines.push(`AP      IoU 0.50:0.95  ${fmt(result.ap)}`);
  lines.push(`AP50    IoU 0.50       ${fmt(result.ap50)}`);
  lines.push(`AP75    IoU 0.75       ${fmt(result.ap75)}`);
  lines.push(`AR@${result.maxDetections}  IoU 0.50:0.95  ${fmt(result.recall)}`);
  const op = result.bestF1;
  if (op) {
    lines.push(
      `best F1 at IoU 0.50: ${fmt(op.f1)} at min score ${op.minScore.toFixed(2)} (precision ${fmt(op.precision)}, recall ${fmt(op.recall)}, ${op.detectionsPerImage.toFixed(1)} boxes per image)`,
    );
  }
  const review = result.review;
  if (review) {
    lines.push(
      `review at min score ${review.minScore.toFixed(2)}: ${review.edits.toFixed(2)} edits per photo (${review.deletes.toFixed(2)} deletes, ${review.draws.toFixed(2)} draws, ${review.relabels.toFixed(2)} relabels), ` +
        `${review.shownBoxes.toFixed(2)} boxes shown against ${review.trueBoxes.toFixed(2)} true boxes`,
    );
  }
  lines.push('');
  const header = ['category', 'GT', 'crowd', 'detections', 'AP', 'AP50', 'AP75', `AR@${result.maxDetections}`];
  const rows = result.perCategory.map((c) => [c.name, String(c.gtCount), String(c.crowdCount), String(c.detectionCount), fmt(c.ap), fmt(c.ap50), fmt(c.ap75), fmt(c.recall)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  lines.push(line(header));
  lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) lines.push(line(r));
  const notes = [...matchingNotes(result), ...extraNotes];
  if (notes.length > 0) {
    lines.push('');
    for (const n of notes) lines.push(`note: ${n}`);
  }
  return lines.join('\n') + '\n';
}

/** The machine-readable result: everything but the 10 x 101 precision tables (those go to --plots). */
export function resultJson(result: CocoEvalResult, extra: Record<string, unknown> = {}, extraNotes: string[] = []): Record<string, unknown> {
  return {
    ap: result.ap,
    ap50: result.ap50,
    ap75: result.ap75,
    recall: result.recall,
    apSharedCategories: result.apSharedCategories,
    maxDetections: result.maxDetections,
    bestF1: result.bestF1,
    ...(result.review ? { review: result.review } : {}),
    perCategory: result.perCategory.map(({ precision: _, ...c }) => c),
    matching: result.matching,
    notes: [...matchingNotes(result), ...extraNotes],
    ...extra,
  };
}

/** Runs the model over the folder in memory, with progress on stderr; Ctrl-C evaluates what was done. */
async function predictFolder(dir: string, opts: EvalOptions): Promise<{ pred: CocoDocument; failed: { file: string; reason: string }[]; interrupted: boolean; model: string; categories: string[]; defaultMinScore: number }> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${dir}: not a folder`);
  const model = resolveModel(opts.model);
  const interrupt = stopOnInterrupt('evaluating the photos done so far');
  let last = 0;
  try {
    const result = await labelFolder({
      dir,
      model,
      minScore: opts.minScore,
      workers: opts.workers,
      signal: interrupt.signal,
      onStart: ({ total, backend, workers }) => {
        process.stderr.write(`detecting with model ${model.manifest.id} (backend ${backend}, ${workers} worker${workers > 1 ? 's' : ''}, min score ${opts.minScore}) on ${total} images\n`);
      },
      onProgress: (p) => {
        const now = Date.now();
        if (p.done + p.failed < p.total && now - last < 2000) return;
        last = now;
        process.stderr.write(`${p.done + p.failed}/${p.total} images, ${p.imagesPerSecond.toFixed(1)} img/s, ${p.failed} failed\n`);
      },
    });
    return { pred: result.doc, failed: result.problems, interrupted: result.interrupted, model: modelTag(model.manifest), categories: reportableCategories(model.manifest), defaultMinScore: defaultMinScoreOf(model.manifest) };
  } finally {
    interrupt.release();
  }
}

/**
 * A file written by `label` records the score it was cut at (info.min_score). AP needs the low-scored
 * detections too, so a file cut at the model's default (0.5 for fashion-ccp) scores lower than the model.
 */
function cutNote(raw: unknown): string[] {
  const cut = (raw as { info?: { min_score?: unknown } } | null)?.info?.min_score;
  if (typeof cut !== 'number' || cut <= AP_MIN_SCORE) return [];
  return [
    `these predictions were written with --min-score ${cut}: AP counts only the detections above it, so it comes out lower than the model's; for AP, label with --min-score ${AP_MIN_SCORE} or use --images`,
  ];
}

/**
 * The score a file from `label` shows boxes from in the window: its model's default minimum score
 * where the model is installed, else the score the file was cut at when that is above AP's.
 */
function labelledAt(raw: unknown): number | undefined {
  const info = (raw as { info?: { model?: unknown; min_score?: unknown } } | null)?.info;
  if (typeof info?.model === 'string') {
    try {
      return defaultMinScoreOf(resolveModel(info.model.split('@')[0]).manifest);
    } catch {
      // Not installed here: fall through.
    }
  }
  return typeof info?.min_score === 'number' && info.min_score > AP_MIN_SCORE ? info.min_score : undefined;
}

export async function runEval(opts: EvalOptions): Promise<number> {
  if (opts.pred && opts.images) throw new UsageError('give either --pred (a predictions file) or --images (a folder to run the model on), not both');
  if (!opts.pred && !opts.images) throw new UsageError('give --pred PRED.json, or --images DIR to run a model and evaluate in one go');
  if (opts.pred && opts.model) throw new UsageError('--model is for --images; a predictions file was already made by a model');
  const gt = parseGroundTruth(readJson(opts.gt, 'ground-truth'), opts.gt);
  let pred: Predictions | CocoDocument;
  let failed: { file: string; reason: string }[] = [];
  let interrupted = false;
  let model: string | undefined;
  let categories: string[] | undefined;
  let notes: string[] = [];
  let reviewScore = opts.reviewScore;
  if (opts.pred) {
    const raw = readJson(opts.pred, 'predictions');
    pred = parsePredictions(raw, opts.pred);
    notes = cutNote(raw);
    reviewScore ??= labelledAt(raw);
  } else {
    let defaultMinScore: number;
    ({ pred, failed, interrupted, model, categories, defaultMinScore } = await predictFolder(opts.images!, opts));
    if ((pred as CocoDocument).images.length === 0) throw new UsageError(`${opts.images}: no image could be labelled, nothing to evaluate`);
    reviewScore ??= defaultMinScore;
  }
  // Without a model's own score (a bare results array), where F1 peaks stands in for it.
  const result = evaluateCoco(gt, pred, { reportableCategories: categories, reviewScore: reviewScore ?? 'best-f1' });
  const plots = opts.plots ? await writePrPlots(result, opts.plots) : [];
  if (opts.json) {
    process.stdout.write(JSON.stringify(resultJson(result, { ...(model ? { model } : {}), plots, failed, interrupted }, notes), null, 2) + '\n');
  } else {
    if (model) process.stdout.write(`model ${model}\n`);
    process.stdout.write(formatReport(result, notes));
    if (plots.length > 0) process.stdout.write(`precision-recall curves: ${plots.length} PNG files in ${path.resolve(opts.plots!)}\n`);
  }
  if (failed.length > 0) {
    process.stderr.write(`${failed.length} images could not be read and were left out:\n`);
    for (const f of failed) process.stderr.write(`  ${f.file}: ${f.reason}\n`);
  }
  if (interrupted) return EXIT.interrupted;
  return failed.length > 0 ? EXIT.someFilesFailed : EXIT.ok;
}
