import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src-main/core/base/errors';
import { resolveShard } from '../../src-main/core/label/cluster-shard';
import { checkCocoStructure, readJsonFile } from '../../src-main/core/lint/coco-input';
import { chiSquareQuantile, surprise } from '../../src-main/core/lint/gaussian';
import { lintPhotos } from '../../src-main/core/lint/lint';
import { STRUCTURAL_SCORE, type LintPhoto } from '../../src-main/core/lint/photos';
import { singleInstanceCategoryIds } from '../../src-main/core/lint/rules';
import { modelDisagreements } from '../../src-main/core/lint/model-check';
import { resolveModel } from '../../src-main/core/models/registry';
import { sceneDataset, tempDir } from '../helpers';

const categories = [
  { id: 1, name: 'top' },
  { id: 2, name: 'skirt' },
  { id: 3, name: 'footwear' },
  { id: 4, name: 'dress' },
];

/** Photos of people as CCP labels them: a top, a skirt below it, two shoes; sizes vary a little. */
function people(count: number, seed = 1): LintPhoto[] {
  let s = seed;
  const jitter = () => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647 - 0.5) * 0.06;
  };
  let id = 1;
  return Array.from({ length: count }, (_, i) => {
    const W = 600;
    const H = 900;
    const box = (categoryId: number, x: number, y: number, w: number, h: number) => ({
      id: id++,
      categoryId,
      bbox: [(x + jitter()) * W, (y + jitter()) * H, w * (1 + jitter()) * W, h * (1 + jitter()) * H] as [number, number, number, number],
    });
    return {
      id: i + 1,
      name: `p${i + 1}.jpg`,
      width: W,
      height: H,
      boxes: [box(1, 0.3, 0.2, 0.4, 0.3), box(2, 0.32, 0.48, 0.36, 0.25), box(3, 0.33, 0.88, 0.12, 0.07), box(3, 0.53, 0.88, 0.12, 0.07)],
    };
  });
}

describe('COCO input that may be anything', () => {
  const raw = (over: Record<string, unknown>) => ({
    images: [
      { id: 1, file_name: 'a.jpg', width: 100, height: 200 },
      { id: 2, file_name: 'b.jpg', width: 100, height: 200 },
    ],
    annotations: [],
    categories: [{ id: 1, name: 'top' }],
    ...over,
  });

  it('names every unsound entry, structural faults scored above everything else', () => {
    const text = `{"images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 200},
      {"id": 1, "file_name": "dup.jpg", "width": 100, "height": 200},
      {"id": 3, "file_name": "a.jpg", "width": 100, "height": 200},
      {"id": 4, "file_name": "nan.jpg", "width": "NaN", "height": 200},
      {"id": 5, "file_name": "inf.jpg", "width": 1e400, "height": 200},
      {"id": 6, "file_name": "huge.jpg", "width": 1e300, "height": 200},
      {"id": -7, "file_name": "neg.jpg", "width": 10, "height": 10}, null, "text"],
     "categories": [{"id": 1, "name": "top"}, {"id": 1, "name": "again"}, {"id": "2", "name": "skirt"}],
     "annotations": [
      {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]},
      {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]},
      {"id": 2, "image_id": 1, "category_id": 1, "bbox": ["NaN", 10, 20, 20]},
      {"id": 3, "image_id": 1, "category_id": 1, "bbox": [10, null, 20, 20]},
      {"id": 4, "image_id": 1, "category_id": 1, "bbox": [10, 10, 1e400, 20]},
      {"id": 5, "image_id": 1, "category_id": 1, "bbox": [10, 10, -5, 20]},
      {"id": 6, "image_id": 1, "category_id": 1, "bbox": [90, 10, 20, 20]},
      {"id": 7, "image_id": 1, "category_id": 1, "bbox": [1e300, 10, 20, 20]},
      {"id": 8, "image_id": 99, "category_id": 1, "bbox": [10, 10, 20, 20]},
      {"id": 9, "image_id": 1, "category_id": 42, "bbox": [10, 10, 20, 20]},
      {"id": 10, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20]},
      {"id": 11, "image_id": 1, "category_id": 1, "bbox": [10, 10, 0, 20]},
      {"id": 12, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": "high"},
      {"id": "13", "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]},
      {"id": 14, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "verified": "yes"},
      [1, 2, 3]]}`;
    const s = checkCocoStructure(JSON.parse(text), 'x.json');
    const faults = s.faults.map((f) => `${f.kind}: ${f.message}`);
    const has = (pattern: RegExp) => expect(faults.some((f) => pattern.test(f)), `${pattern} in\n${faults.join('\n')}`).toBe(true);
    has(/^duplicate-id: image id 1 is used twice/);
    has(/^duplicate-image: image 3: a\.jpg is listed twice/);
    has(/^invalid-image: image 4 \(nan\.jpg\): width "NaN" \(text, not a number\)/);
    has(/^invalid-image: image 5 \(inf\.jpg\): width a number too large to read/);
    has(/^invalid-image: image 6 \(huge\.jpg\): width 1e\+300 is not a number of pixels/);
    has(/^invalid-image: images\[6\]: id -7 is not a whole number above 0/);
    has(/^invalid-image: images\[7\] is null/);
    has(/^duplicate-id: category id 1 is used twice/);
    has(/^invalid-category: categories\[2\]: id "2"/);
    has(/^duplicate-id: annotation id 1 is used twice/);
    has(/^invalid-box: annotation 2: bbox x is "NaN" \(text, not a number\)/);
    has(/^invalid-box: annotation 3: bbox y is null/);
    has(/^invalid-box: annotation 4: bbox width is a number too large to read/);
    has(/^negative-box: annotation 5: .*negative width/);
    has(/^outside-image: annotation 6: bbox \[90, 10, 20, 20\] lies outside its 100x200 photo/);
    has(/^outside-image: annotation 7/);
    has(/^missing-image: annotation 8 refers to image 99/);
    has(/^missing-category: annotation 9 refers to category 42/);
    has(/^invalid-box: annotation 10: bbox \[10,10,20\] is not \[x, y, width, height\]/);
    has(/^invalid-box: annotation 11: .*empty \(width 0\)/);
    has(/^invalid-annotation: annotation 12: score "high"/);
    has(/^invalid-annotation: annotations\[13\]: id "13"/);
    has(/^invalid-annotation: annotation 14: verified "yes"/);
    has(/^invalid-annotation: annotations\[15\] is \[1,2,3\]/);
    expect(s.faults.every((f) => f.score === STRUCTURAL_SCORE)).toBe(true);
    // Only the sound box is left for the shape model; the faulty entries are out.
    expect(s.photos.flatMap((p) => p.boxes.map((b) => b.id))).toEqual([1]);
    expect(s.photos.map((p) => p.name)).toEqual(['a.jpg']);
    expect([s.imageCount, s.annotationCount]).toEqual([9, 16]);
  });

  it('refuses a document that is not COCO at all, with the reason', () => {
    expect(() => checkCocoStructure([], 'r.json')).toThrow(/a list \(a COCO results file\?\), not an object/);
    expect(() => checkCocoStructure(raw({ images: undefined }), 'r.json')).toThrow(/"images" is missing/);
    expect(() => checkCocoStructure(raw({ annotations: 'many' }), 'r.json')).toThrow(/"annotations" is not a list but "many"/);
    expect(() => checkCocoStructure('x', 'r.json')).toThrow(UsageError);
  });

  it('checks the size and first bytes before parsing: binary, blank, huge and non-JSON files are refused at once', () => {
    const dir = tempDir('fd-lint-input-');
    const write = (name: string, data: string | Buffer) => {
      fs.writeFileSync(path.join(dir, name), data);
      return path.join(dir, name);
    };
    expect(() => readJsonFile(path.join(dir, 'none.json'))).toThrow(/file not found/);
    expect(() => readJsonFile(dir)).toThrow(/is a folder/);
    expect(() => readJsonFile(write('empty.json', ''))).toThrow(/empty file/);
    expect(() => readJsonFile(write('zeros.json', Buffer.alloc(4096)))).toThrow(/binary data/);
    expect(() => readJsonFile(write('blank.json', ' '.repeat(200_000)))).toThrow(/the first 64 KB are blank space/);
    expect(() => readJsonFile(write('list.json', '[{"id": 1}]'))).toThrow(/starts with "\[\{\\"id\\": 1\}\]", where a COCO file starts with "\{"/);
    expect(() => readJsonFile(write('cut.json', '{"images": [1, 2'))).toThrow(/not valid JSON/);
    expect(readJsonFile(write('bom.json', '\uFEFF  {"images": []}'))).toEqual({ images: [] });
    // 500 MB of nothing useful (sparse: written as a header and a size), refused by its size with memory flat.
    const big = path.join(dir, 'big.json');
    fs.writeFileSync(big, '{"images": [');
    fs.truncateSync(big, 500 * 1024 * 1024);
    const before = process.memoryUsage().rss;
    expect(() => readJsonFile(big)).toThrow(/500 MB is more than the 256 MB a COCO file is read up to/);
    expect(process.memoryUsage().rss - before).toBeLessThan(50 * 1024 * 1024);
    // Under the limit but useless: parsed, then refused as not COCO.
    const junk = write('junk.json', `{"x": "${'a'.repeat(20 * 1024 * 1024)}"}`);
    expect(() => checkCocoStructure(readJsonFile(junk), junk)).toThrow(/not a COCO detection file: "images" is missing/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('boxes that look wrong', () => {
  it('ranks a box unlike its category first and says why in words', () => {
    const photos = people(60);
    // A dress box in a few photos, so the category has a model; then one far too small.
    const dress = photos.slice(0, 30).map((p, k) => ({ id: 1000 + k, categoryId: 4, bbox: [180, 180, 240, 560 + k] as [number, number, number, number] }));
    photos.slice(0, 30).forEach((p, k) => p.boxes.push(dress[k]));
    dress[5].bbox = [280, 400, 40, 60];
    const { problems, ranking } = lintPhotos(photos, categories);
    expect(ranking[0].boxId).toBe(1005);
    expect(problems[0]).toMatchObject({ boxId: 1005, photo: 'p6.jpg', kind: 'unusual-box', message: 'unusually small for a dress' });
    expect(problems[0].score).toBeGreaterThan(10);
    expect(ranking.length).toBe(photos.reduce((n, p) => n + p.boxes.length, 0));
  });

  it('finds a box moved off its place next to the other items', () => {
    const photos = people(60);
    const skirt = photos[10].boxes.find((b) => b.categoryId === 2)!;
    skirt.bbox = [skirt.bbox[0], 0.02 * 900, skirt.bbox[2], skirt.bbox[3]]; // above the top
    const { problems } = lintPhotos(photos, categories);
    expect(problems[0].boxId).toBe(skirt.id);
    expect(problems[0].message).toMatch(/unusually (high|short|small).* for a skirt/);
  });

  it('learns from verified boxes, and judges the unverified by them', () => {
    const photos = people(60).map((p) => ({ ...p, boxes: p.boxes.map((b) => ({ ...b, verified: true })) }));
    // The model's boxes (with scores, not verified) are all wrong the same way: learning from them would hide it.
    for (const p of photos.slice(0, 25)) p.boxes.push({ id: 5000 + p.id!, categoryId: 1, bbox: [10, 700, 60, 60], score: 0.9, verified: false });
    const { problems } = lintPhotos(photos, categories);
    const flagged = new Set(problems.filter((p) => p.kind === 'unusual-box' || p.kind === 'second-instance').map((p) => p.boxId));
    for (const p of photos.slice(0, 25)) expect(flagged.has(5000 + p.id!)).toBe(true);
  });

  it('lists a second box of a category labelled once per photo, a box of a few pixels, and stacked boxes', () => {
    const photos = people(40);
    expect(singleInstanceCategoryIds(photos)).toEqual([1, 2]);
    photos[3].boxes.push({ id: 900, categoryId: 2, bbox: [200, 50, 200, 200] });
    photos[4].boxes.push({ id: 901, categoryId: 3, bbox: [100, 100, 3, 40] });
    const shoe = photos[5].boxes.find((b) => b.categoryId === 3)!;
    photos[5].boxes.push({ id: 902, categoryId: 3, bbox: [shoe.bbox[0] + 1, shoe.bbox[1], shoe.bbox[2], shoe.bbox[3]] });
    const { problems } = lintPhotos(photos, categories);
    const of = (id: number) => problems.filter((p) => p.boxId === id).map((p) => `${p.kind}: ${p.message}`);
    expect(of(900)).toContain('second-instance: second skirt in one photo (the other photos have one at most)');
    expect(of(901)).toContain('tiny-box: a box of a few pixels (3x40) for footwear');
    expect(of(902).some((m) => /^stacked-boxes: two footwear boxes over each other \(overlap 9\d%\)$/.test(m))).toBe(true);
    // The skirt that belongs is not the one listed.
    const first = photos[3].boxes.find((b) => b.categoryId === 2 && b.id !== 900)!;
    expect(of(first.id).filter((m) => m.startsWith('second-instance'))).toEqual([]);
    for (let k = 1; k < problems.length; k++) expect(problems[k - 1].score).toBeGreaterThanOrEqual(problems[k].score);
  });

  it('finds nothing in a small, sound file (no category has enough boxes to judge shapes by)', () => {
    const photos = people(3);
    expect(lintPhotos(photos, categories).problems).toEqual([]);
  });

  it('computes chi-square tails right', () => {
    // 3.84 is the 95% point of one degree of freedom, 11.07 of five, 18.47 the 99.9% point of four.
    expect(surprise(3.841, 1)).toBeCloseTo(-Math.log10(0.05), 2);
    expect(surprise(11.07, 5)).toBeCloseTo(-Math.log10(0.05), 2);
    expect(surprise(18.47, 4)).toBeCloseTo(3, 2);
    expect(chiSquareQuantile(0.975, 9)).toBeCloseTo(19.02, 1);
    expect(surprise(2000, 9)).toBeGreaterThan(400);
  });
});

describe('--shard auto', () => {
  it('reads a Kubernetes Indexed Job (count given) and a Slurm job array', () => {
    expect(resolveShard('2/5', {})).toEqual({ index: 2, count: 5 });
    expect(resolveShard('auto/4', { JOB_COMPLETION_INDEX: '0' })).toEqual({ index: 1, count: 4 });
    expect(resolveShard('auto', { JOB_COMPLETION_INDEX: '3', FASHION_DETECT_SHARD_COUNT: '4' })).toEqual({ index: 4, count: 4 });
    expect(resolveShard('auto', { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '2' })).toEqual({ index: 1, count: 3 });
    // Arrays that start at 1, and arrays with a step.
    expect(resolveShard('auto', { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '3' })).toEqual({ index: 3, count: 3 });
    expect(resolveShard('auto/3', { SLURM_ARRAY_TASK_ID: '14', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_MAX: '14', SLURM_ARRAY_TASK_STEP: '2' })).toEqual({ index: 3, count: 3 });
  });

  it('says what is missing or inconsistent', () => {
    expect(() => resolveShard('auto', {})).toThrow(/no job index found/);
    expect(() => resolveShard('auto', { JOB_COMPLETION_INDEX: '1' })).toThrow(/give --shard auto\/N or set FASHION_DETECT_SHARD_COUNT/);
    expect(() => resolveShard('auto/2', { JOB_COMPLETION_INDEX: '2' })).toThrow(/not below the count 2/);
    expect(() => resolveShard('auto/4', { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '2' })).toThrow(/has 3 tasks/);
    expect(() => resolveShard('auto', { SLURM_ARRAY_TASK_ID: '9', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '9' })).toThrow(/not a plain range/);
    expect(() => resolveShard('auto', { SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_COUNT: '3' })).toThrow(/not a whole number/);
    expect(() => resolveShard('auto', { SLURM_ARRAY_TASK_ID: '1', JOB_COMPLETION_INDEX: '1' })).toThrow(/both/);
    expect(() => resolveShard('three', {})).toThrow(/K\/N/);
  });
});

describe('the check with a model', () => {
  it('stops within a photo or two of a stop and returns what it found so far; a photo listed twice is judged for both entries', async () => {
    process.env.FASHION_DETECT_BACKEND ??= 'wasm';
    const dir = tempDir('fd-lint-stop-');
    const structure = checkCocoStructure(readJsonFile(await sceneDataset(dir, 10)), 'scenes.json');
    const model = resolveModel('fashion-ccp');
    const stop = new AbortController();
    const progress: number[] = [];
    const result = await modelDisagreements(structure.photos, structure.categories, {
      imagesDir: dir,
      model,
      workers: 1,
      signal: stop.signal,
      onProgress: (done) => {
        progress.push(done);
        stop.abort();
      },
    });
    // One worker has two photos in flight: the stop lets at most those finish.
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.length).toBeLessThanOrEqual(3);
    expect(result.unreadable).toEqual([]);

    // The same photo twice in the file: both entries are judged.
    const twice = [structure.photos[0], { ...structure.photos[0], id: 99 }];
    let totalSeen = 0;
    const both = await modelDisagreements(twice, structure.categories, { imagesDir: dir, model, workers: 1, onStart: (total) => (totalSeen = total) });
    expect(totalSeen).toBe(2);
    expect(both.problems.filter((p) => p.photoId === 99).map((p) => p.boxId)).toEqual(both.problems.filter((p) => p.photoId === structure.photos[0].id).map((p) => p.boxId));
  }, 120_000);
});
