import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { defaultModelId, resolveModel } from '../../src-main/core/models/registry';
import { copySharedPhotos, hasShared, runCli, sharedDataset, sharedSkipReason, tempDir } from '../helpers';

// Run `npx tsc -p .` first: these spawn dist/main/cli/main.js.

const A = [0, 0, 100, 100];
const B = [200, 200, 50, 80];
const far = [400, 400, 30, 30];

function writeJson(dir: string, name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

/** Two GT boxes; predictions TP, FP, TP: AP = (51 + 50 * 2/3) / 101 at every IoU threshold. */
function handCase(dir: string) {
  const gt = writeJson(dir, 'gt.json', {
    images: [{ id: 1, file_name: 'one.jpg', width: 640, height: 480 }],
    annotations: [
      { id: 1, image_id: 1, category_id: 1, bbox: A, area: 10000, iscrowd: 0 },
      { id: 2, image_id: 1, category_id: 1, bbox: B, area: 4000, iscrowd: 0 },
    ],
    categories: [{ id: 1, name: 'top', supercategory: 'clothing' }, { id: 2, name: 'belt', supercategory: 'accessory' }],
  });
  const pred = writeJson(dir, 'pred.json', {
    images: [{ id: 4, file_name: 'one.jpg', width: 640, height: 480 }, { id: 5, file_name: 'other.jpg', width: 640, height: 480 }],
    annotations: [
      { id: 1, image_id: 4, category_id: 3, bbox: A, area: 10000, iscrowd: 0, score: 0.9 },
      { id: 2, image_id: 4, category_id: 3, bbox: far, area: 900, iscrowd: 0, score: 0.8 },
      { id: 3, image_id: 4, category_id: 3, bbox: B, area: 4000, iscrowd: 0, score: 0.7 },
      { id: 4, image_id: 5, category_id: 3, bbox: B, area: 4000, iscrowd: 0, score: 0.7 },
      { id: 5, image_id: 4, category_id: 9, bbox: B, area: 4000, iscrowd: 0, score: 0.6 },
    ],
    categories: [{ id: 3, name: 'top' }, { id: 9, name: 'person' }],
  });
  return { gt, pred, ap: (51 + 50 * (2 / 3)) / 101 };
}

describe('fashion-detect eval --pred', () => {
  it('prints the table, the numbers and what could not be matched', async () => {
    const dir = tempDir('fd-eval-');
    const c = handCase(dir);
    const run = await runCli(['eval', '--gt', c.gt, '--pred', c.pred]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`AP +IoU 0\\.50:0\\.95 +${c.ap.toFixed(3)}`));
    expect(run.stdout).toMatch(/^top +2 +0 +3 +0\.835 +0\.835 +0\.835 +1\.000$/m);
    expect(run.stdout).toMatch(/^belt +0 +0 +0 +- +- +- +-$/m);
    expect(run.stdout).toContain('1 predicted images have no ground-truth image of that file name; their detections were ignored (other.jpg)');
    expect(run.stdout).toContain('predicted category "person" is not a ground-truth category: 1 detection ignored');
    expect(run.stdout).toContain('no ground truth for belt');
    // No model's own score in a file without info: the review is counted where F1 peaks (0.7): the far box is deleted.
    expect(run.stdout).toContain('review at min score 0.70: 1.00 edits per photo (1.00 deletes, 0.00 draws, 0.00 relabels), 3.00 boxes shown against 2.00 true boxes');
    const above = await runCli(['eval', '--gt', c.gt, '--pred', c.pred, '--review-score', '0.85', '--json']);
    expect(JSON.parse(above.stdout).review).toEqual({ minScore: 0.85, images: 1, edits: 1, deletes: 0, draws: 1, relabels: 0, trueBoxes: 2, shownBoxes: 1 });
  });

  it('--json gives the same figures to machines, and --plots one PNG per category with ground truth', async () => {
    const dir = tempDir('fd-eval-');
    const c = handCase(dir);
    const plots = path.join(dir, 'plots', 'nested');
    const run = await runCli(['eval', '--gt', c.gt, '--pred', c.pred, '--json', '--plots', plots]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.ap).toBeCloseTo(c.ap, 12);
    expect(result.ap50).toBeCloseTo(c.ap, 12);
    expect(result.perCategory.map((x: { name: string; ap: number | null }) => [x.name, x.ap])).toEqual([['top', expect.closeTo(c.ap, 12)], ['belt', null]]);
    expect(result.matching.detectionsIgnored).toBe(2);
    expect(fs.readdirSync(plots).sort()).toEqual(['pr-all.png', 'pr-top.png']);
    const { data, info } = await sharp(path.join(plots, 'pr-top.png')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([640, 510]);
    // All three curves coincide here; the last drawn (IoU 0.50:0.95, #2ca02c) runs at precision 1 over
    // the left half of the recall axis and at 2/3 over the right.
    const plot = { left: 64, top: 64, width: 552, height: 360 };
    const isCurve = (x: number, y: number) => [0, 1, 2].every((k) => Math.abs(data[(y * info.width + x) * 3 + k] - [0x2c, 0xa0, 0x2c][k]) < 40);
    const curveRows = (x: number) => Array.from({ length: info.height }, (_, y) => y).filter((y) => isCurve(x, y));
    const yOf = (p: number) => plot.top + (1 - p) * plot.height;
    for (const y of curveRows(Math.round(plot.left + 0.25 * plot.width))) expect(Math.abs(y - yOf(1))).toBeLessThan(4);
    for (const y of curveRows(Math.round(plot.left + 0.75 * plot.width))) expect(Math.abs(y - yOf(2 / 3))).toBeLessThan(4);
    expect(curveRows(Math.round(plot.left + 0.25 * plot.width)).length).toBeGreaterThan(0);
    expect(curveRows(Math.round(plot.left + 0.75 * plot.width)).length).toBeGreaterThan(0);
  });

  it('refuses bad input with a clear message and exit 1', async () => {
    const dir = tempDir('fd-eval-');
    const c = handCase(dir);
    const cases: [string[], RegExp][] = [
      [['eval', '--gt', c.gt], /give --pred PRED.json, or --images DIR/],
      [['eval', '--gt', c.gt, '--pred', c.pred, '--images', dir], /not both/],
      [['eval', '--gt', path.join(dir, 'nope.json'), '--pred', c.pred], /nope\.json: no such ground-truth file/],
      [['eval', '--gt', c.gt, '--pred', writeJson(dir, 'string.json', 'x')], /string\.json: document: /],
      [['eval', '--gt', c.gt, '--pred', c.gt], /annotations\.0\.score: missing: every prediction needs a score \(is this a ground-truth file\?\)/],
      [['eval', '--gt', writeJson(dir, 'dangling.json', { images: [], annotations: [{ image_id: 3, category_id: 1, bbox: A }], categories: [{ id: 1, name: 'top' }] }), '--pred', c.pred], /dangling\.json: annotations\.0 refers to image 3, which is not in images/],
    ];
    fs.writeFileSync(path.join(dir, 'torn.json'), '{"images": [');
    cases.push([['eval', '--gt', c.gt, '--pred', path.join(dir, 'torn.json')], /torn\.json: not valid JSON/]);
    for (const [args, message] of cases) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stdout).toBe('');
    }
  });
});

describe.skipIf(!hasShared)('fashion-detect eval --images on real CCP photos (../shared)', () => {
  it('runs the model and evaluates in one go, with the same figures as label then eval --pred', async () => {
    const dir = tempDir('fd-eval-');
    const photos = path.join(dir, 'photos');
    copySharedPhotos(photos, 6);
    const gt = path.join(sharedDataset, 'train/annotations.json');
    const direct = await runCli(['eval', '--gt', gt, '--images', photos, '--json', '--workers', '1']);
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stderr).toMatch(/6\/6 images/);
    const result = JSON.parse(direct.stdout);
    expect(result.matching.imagesEvaluated).toBe(6);
    expect(result.matching.gtImagesNotPredicted).toHaveLength(811 - 6);
    expect(result.model).toMatch(/@/);
    // Every category with boxes on these 6 photos has an AP; the others are left out.
    const gtDoc = JSON.parse(fs.readFileSync(gt, 'utf8'));
    const ids = new Set(gtDoc.images.filter((i: { file_name: string }) => fs.existsSync(path.join(photos, i.file_name))).map((i: { id: number }) => i.id));
    const present = new Set(gtDoc.annotations.filter((a: { image_id: number }) => ids.has(a.image_id)).map((a: { category_id: number }) => a.category_id));
    for (const c of result.perCategory) expect(c.ap === null, c.name).toBe(!present.has(c.id));
    expect(result.ap).toBeGreaterThanOrEqual(0);

    const labels = path.join(dir, 'labels.json');
    const label = await runCli(['label', photos, '--out', labels, '--min-score', '0.05', '--workers', '1', '--progress', 'none']);
    expect(label.code, label.stderr).toBe(0);
    const viaFile = JSON.parse((await runCli(['eval', '--gt', gt, '--pred', labels, '--json'])).stdout);
    expect(viaFile.ap).toBe(result.ap);
    expect(viaFile.perCategory).toEqual(result.perCategory);
    expect(viaFile.notes.join('\n')).not.toMatch(/min-score/);

    // Labelled at the model's default: fewer detections, lower AP, and the report says why.
    const cutLabels = path.join(dir, 'labels-default.json');
    expect((await runCli(['label', photos, '--out', cutLabels, '--workers', '1', '--progress', 'none'])).code).toBe(0);
    const cut = JSON.parse((await runCli(['eval', '--gt', gt, '--pred', cutLabels, '--json'])).stdout);
    expect(cut.ap).toBeLessThan(result.ap);
    const cutAt = String(resolveModel(defaultModelId()).manifest.defaultMinScore);
    expect(cut.notes.join('\n')).toContain(`written with --min-score ${cutAt}: AP counts only the detections above it`);
    expect((await runCli(['eval', '--gt', gt, '--pred', cutLabels])).stdout).toContain(`note: these predictions were written with --min-score ${cutAt}:`);
  });
});
if (!hasShared) console.log(`SKIP eval --images on real photos: ${sharedSkipReason}`);
