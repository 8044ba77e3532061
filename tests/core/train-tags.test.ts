// Training from photos that only name the categories they hold (core/train/tags.ts): the rules for
// reading a tags file, which of the model's boxes are kept, and the loss that treats every category a
// photo is not tagged with as absent everywhere in it and every tagged one as unknown.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src-main/core/base/backend';
import { readTrainSet, splitTrainVal, type TrainSet } from '../../src-main/core/train/dataset';
import { batchTargets, disposeTargets, gflLoss } from '../../src-main/core/train/loss';
import { repeatFactors } from '../../src-main/core/train/sampling';
import { PSEUDO_BOX_RULES, readTagSet, taggedTrainImages, type ModelBox } from '../../src-main/core/train/tags';
import { train } from '../../src-main/core/train/train';
import { drawScene, runCli, sceneDataset, tempDir } from '../helpers';

process.env.FASHION_DETECT_BACKEND = 'wasm';

describe('the loss on a tagged photo', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('counts the cells of an untagged category as negatives and leaves a tagged one out, but never a positive cell', () => {
    const cells = 6;
    const numClasses = 3;
    const bins = 4;
    // Raw outputs with some score everywhere, so every negative costs something.
    const raw = tf.tensor3d(Float32Array.from({ length: cells * (numClasses + 4 * bins) }, (_, i) => Math.sin(i) * 2), [1, cells, numClasses + 4 * bins]);
    const positive = { cells: Int32Array.from([2]), classes: Int32Array.from([1]), distances: Float32Array.from([1, 1, 1, 1]) };
    const lossWith = (negativeWeights?: number[]) => {
      const t = batchTargets([{ ...positive, ...(negativeWeights ? { negativeWeights: Float32Array.from(negativeWeights) } : {}) }], cells, numClasses, bins);
      const loss = gflLoss(raw, t, numClasses, bins);
      const value = { total: loss.total.dataSync()[0], quality: loss.quality.dataSync()[0], giou: loss.giou.dataSync()[0] };
      tf.dispose(Object.values(loss));
      disposeTargets(t);
      return value;
    };
    const boxed = lossWith();
    expect(lossWith([1, 1, 1])).toEqual(boxed);
    const class0Ignored = lossWith([0, 1, 1]);
    const class1Ignored = lossWith([1, 0, 1]);
    const allIgnored = lossWith([0, 0, 0]);
    // Leaving a class's negatives out lowers the score loss and nothing else.
    expect(class0Ignored.quality).toBeLessThan(boxed.quality);
    expect(class0Ignored.giou).toBe(boxed.giou);
    // The positive cell of class 1 still counts with class 1 ignored: only its 5 negatives go.
    expect(class1Ignored.quality).toBeLessThan(boxed.quality);
    expect(allIgnored.quality).toBeGreaterThan(0);
    // Per class, the parts add up: what ignoring 0 and 1 saves is what ignoring each saves.
    const both = lossWith([0, 0, 1]);
    expect(boxed.quality - both.quality).toBeCloseTo(boxed.quality - class0Ignored.quality + (boxed.quality - class1Ignored.quality), 5);
    raw.dispose();
  });
});

describe('reading a tags file', () => {
  let dir: string;
  let set: TrainSet;
  const write = (name: string, doc: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return file;
  };
  const categories = [
    { id: 7, name: 'Footwear' },
    { id: 8, name: 'bag' },
    { id: 9, name: 'umbrella' },
  ];

  beforeAll(async () => {
    dir = tempDir('fd-tags-');
    set = readTrainSet(await sceneDataset(dir, 3), dir);
    fs.mkdirSync(path.join(dir, 'tagged'));
    for (const k of [1, 2, 3]) await (await drawScene(200, 300, 10 + k)).jpeg().toFile(path.join(dir, 'tagged', `t${k}.jpg`));
  });

  it('matches categories by name, and says what it leaves out: other categories, photos with no tag, missing photos, boxed photos', () => {
    const file = write('tags.json', {
      images: [
        { id: 1, file_name: 't1.jpg' },
        { id: 2, file_name: 't2.jpg' },
        { id: 3, file_name: 't3.jpg' },
        { id: 4, file_name: 'gone.jpg' },
        { id: 5, file_name: '../scene-1.jpg' },
      ],
      categories,
      image_labels: [
        { image_id: 1, category_id: 7 },
        { image_id: 1, category_id: 9 },
        { image_id: 2, category_id: 8 },
        { image_id: 4, category_id: 8 },
        { image_id: 5, category_id: 8 },
        { image_id: 99, category_id: 8 },
      ],
    });
    const tags = readTagSet(file, path.join(dir, 'tagged'), set);
    const footwear = set.categories.findIndex((c) => c.name === 'footwear');
    const bag = set.categories.findIndex((c) => c.name === 'bag');
    expect(tags.photos.map((p) => [p.fileName, [...p.classes]])).toEqual([
      ['t1.jpg', [footwear]],
      ['t2.jpg', [bag]],
    ]);
    expect(tags.notes.join('\n')).toMatch(/categories the training does not have are ignored: umbrella/);
    expect(tags.notes.join('\n')).toMatch(/1 tags name image ids the file does not list/);
    expect(tags.notes.join('\n')).toMatch(/1 photo with no tag left out/);
    expect(tags.notes.join('\n')).toMatch(/1 tagged photo not found under/);
    // scene-1.jpg has a top, pants, shoes and a bag: tagged with a bag only, it disagrees with its boxes.
    expect(tags.notes.join('\n')).toMatch(/1 tagged photo also has boxes: trained on the boxes \(1 with tags that disagree with the boxes\)/);
  });

  it('refuses what it cannot read, with the reason', () => {
    const tagged = path.join(dir, 'tagged');
    const images = [{ id: 1, file_name: 't1.jpg' }];
    expect(() => readTagSet(path.join(dir, 'none.json'), tagged, set)).toThrow(/none\.json: file not found/);
    expect(() => readTagSet(write('text.json', 'photo,tag'), tagged, set)).toThrow(/the tags file is not a JSON file/);
    expect(() => readTagSet(write('coco.json', { images, categories, annotations: [] }), tagged, set)).toThrow(/not a tags file .* image_labels/);
    expect(() => readTagSet(write('empty.json', { images, categories, image_labels: [] }), tagged, set)).toThrow(/image_labels list is empty/);
    expect(() => readTagSet(write('other.json', { images, categories: [{ id: 1, name: 'umbrella' }], image_labels: [{ image_id: 1, category_id: 1 }] }), tagged, set)).toThrow(/none of its categories \(umbrella\) is one of the training categories/);
    expect(() => readTagSet(write('unlisted.json', { images, categories, image_labels: [{ image_id: 1, category_id: 42 }] }), tagged, set)).toThrow(/names category 42, which the file does not list/);
    expect(() => readTagSet(write('twice.json', { images: [...images, ...images], categories, image_labels: [{ image_id: 1, category_id: 7 }] }), tagged, set)).toThrow(/image id 1 is used twice/);
    expect(() => readTagSet(write('ok.json', { images, categories, image_labels: [{ image_id: 1, category_id: 7 }] }), path.join(dir, 'nowhere'), set)).toThrow(/no such folder of tagged photos/);
  });

  it("keeps the model's best box of a category labelled once per photo, up to four shoes or bags, and only of tagged categories", () => {
    const classOf = (name: string) => set.categories.findIndex((c) => c.name === name);
    const file = path.join(dir, 'tagged', 't1.jpg');
    const tags = { photos: [{ fileName: 't1.jpg', file, classes: new Set([classOf('top'), classOf('footwear')]) }], notes: [] };
    const box = (category: string, score: number, x = 0): ModelBox => ({ category, score, bbox: [x, 10, 20, 20] });
    const found = new Map([[file, [box('top', 0.5), box('top', 0.9, 5), box('bag', 0.99), ...[0.8, 0.7, 0.6, 0.5, 0.45, 0.3].map((s, i) => box('footwear', s, 30 * i))]]]);
    const { images, pseudoBoxes } = taggedTrainImages(tags, set, new Set([classOf('top')]), found, PSEUDO_BOX_RULES, 100);
    expect(pseudoBoxes).toBe(5);
    const [photo] = images;
    expect(photo.id).toBe(100);
    expect(photo.boxes.filter((b) => b.classIndex === classOf('top')).map((b) => b.bbox[0])).toEqual([5]);
    expect(photo.boxes.filter((b) => b.classIndex === classOf('footwear'))).toHaveLength(4);
    expect(photo.boxes.some((b) => b.classIndex === classOf('bag'))).toBe(false);
    // Absent everywhere: the categories it is not tagged with; unknown: the tagged ones.
    expect([...photo.negativeWeights!]).toEqual(set.categories.map((c) => (c.name === 'top' || c.name === 'footwear' ? 0 : 1)));
    // A tagged category with no box of the model's still counts as held for repeat sampling.
    const noBoxes = taggedTrainImages(tags, set, new Set(), new Map(), PSEUDO_BOX_RULES, 100).images;
    expect(noBoxes[0].boxes).toEqual([]);
    expect(noBoxes[0].negativeWeights![classOf('top')]).toBe(0);
    const boxedOnly = (id: number) => ({ id, file: '', fileName: '', width: 1, height: 1, boxes: [{ bbox: [0, 0, 1, 1] as [number, number, number, number], classIndex: 0, categoryId: 1 }] });
    const taggedOnly = { id: 3, file: '', fileName: '', width: 1, height: 1, boxes: [], negativeWeights: Float32Array.from([1, 0]) };
    // Class 1 is on one photo in three (tagged, unboxed): that photo is shown sqrt(3) times an epoch.
    expect(repeatFactors([boxedOnly(1), boxedOnly(2), taggedOnly], 2, 1).get(3)).toBeCloseTo(Math.sqrt(3), 6);
  });
});

describe('train with tagged photos', () => {
  it('trains on them beside the boxed photos, validates on boxed photos only, and says so in the card (CLI)', async () => {
    const dir = tempDir('fd-train-tags-');
    const annotations = await sceneDataset(dir, 6);
    const tagged = path.join(dir, 'tagged');
    fs.mkdirSync(tagged);
    const images = [];
    for (let k = 1; k <= 4; k++) {
      await (await drawScene(320, 480, 20 + k)).jpeg().toFile(path.join(tagged, `t${k}.jpg`));
      images.push({ id: k, file_name: `t${k}.jpg` });
    }
    // A fifth tagged photo is a smaller, recompressed copy of a validation photo: it must not train.
    const validation = splitTrainVal(readTrainSet(annotations, dir).images, 0.34, 0).val.map((i) => i.fileName);
    await sharp(path.join(dir, validation[0])).resize({ width: 250 }).jpeg({ quality: 60 }).toFile(path.join(tagged, 't5.jpg'));
    images.push({ id: 5, file_name: 't5.jpg' });
    const tags = path.join(dir, 'tags.json');
    const tagCategories = [{ id: 1, name: 'top' }, { id: 2, name: 'pants' }, { id: 3, name: 'footwear' }, { id: 4, name: 'bag' }];
    fs.writeFileSync(tags, JSON.stringify({ images, categories: tagCategories, image_labels: images.flatMap((i) => [{ image_id: i.id, category_id: 1 }, { image_id: i.id, category_id: 4 }]) }));
    const out = path.join(dir, 'tagged-model');
    const common = ['--coco', annotations, '--images', dir, '--epochs', '1', '--batch-size', '2', '--width', '8', '--val-split', '0.34', '--input', '224x320', '--progress', 'lines'];
    const run = await runCli(['train', ...common, '--out', out, '--tags', tags, '--tag-images', tagged, '--pseudo-model', 'coco-nanodet']);
    expect(run.stderr).toMatch(/finding the boxes of coco-nanodet@[\d.]+ on 5 tagged photos/);
    expect(run.stderr).toMatch(/5 tagged photos train too, with \d+ boxes of coco-nanodet@[\d.]+ kept for their tagged categories/);
    expect(run.stderr).toContain(`1 training photo left out as near-copies of validation photos: t5.jpg (tagged) (of ${validation[0]})`);
    expect(run.stderr).toMatch(/training 4 categories on 8 photos \(2 held out for validation\)/);
    expect(run.code, run.stderr).toBe(0);
    const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    expect(metrics.data).toMatchObject({ trainPhotos: 4, validationPhotos: 2, tagged: { tags: 'tags.json', photos: 5, photosPerCategory: { top: 5, pants: 0, footwear: 0, bag: 5 } } });
    expect(metrics.data.copiesOfValidation).toEqual([{ photo: 't5.jpg (tagged)', copyOf: validation[0], distance: expect.any(Number) }]);
    expect(metrics.validation.images).toBe(2);
    const card = fs.readFileSync(path.join(out, 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(/tags\.json: 5 more photos with image-level tags and no boxes/);
    expect(card).toContain(`Left out of training as near-copies of validation photos, so that validation never measures a photo trained on: t5.jpg (tagged) (of ${validation[0]}).`);
    // The model's boxes were kept with the model: they are not looked for again.
    expect(JSON.parse(fs.readFileSync(path.join(out, 'pseudo-boxes.json'), 'utf8')).model).toMatch(/^coco-nanodet@/);

    const bad = await runCli(['train', ...common, '--out', path.join(dir, 'bad'), '--tags', tags]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--tags needs --tag-images, the folder of the tagged photos/);
    const both = await runCli(['train', ...common, '--out', path.join(dir, 'bad'), '--tags', tags, '--tag-images', tagged, '--pseudo-labels', tags, '--pseudo-model', 'coco-nanodet']);
    expect(both.stderr).toMatch(/--pseudo-labels and --pseudo-model name two sources/);
  });
});
