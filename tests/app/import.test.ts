// Malformed COCO files on import: each is refused with a clear message, or repaired in the documented
// way (docs/app.md, "Robustness"), and a refused import changes nothing: not the open images, not a byte of
// the saved project. No detector is needed: the boxes come from the files.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleApiCall, type ApiEvent, type DialogHost } from '../../src-main/contract/api';
import { MAX_IMPORT_BYTES } from '../../src-main/contract/import-limit';
import { WorkspaceService } from '../../src-main/workspace/service';
import { drawScene, tempDir } from '../helpers';

const NAMES = ['look1.jpg', 'look2.jpg', 'more/look3.jpg'];
const CATEGORIES = [
  { id: 1, name: 'top', supercategory: 'clothing' },
  { id: 7, name: 'footwear', supercategory: 'footwear' },
];

/** A valid COCO document for the three photos (240 x 360 each), to be broken one way at a time. */
function validDoc() {
  return {
    info: {},
    licenses: [],
    images: NAMES.map((file_name, k) => ({ id: k + 1, file_name, width: 240, height: 360 })),
    annotations: [
      { id: 1, image_id: 1, category_id: 1, bbox: [10, 20, 100, 120], area: 12000, iscrowd: 0 },
      { id: 2, image_id: 2, category_id: 7, bbox: [30, 300, 60, 40], area: 2400, iscrowd: 0, score: 0.8 },
      { id: 3, image_id: 3, category_id: 1, bbox: [5, 5, 50, 50], area: 2500, iscrowd: 0 },
    ],
    categories: CATEGORIES.map((c) => ({ ...c })),
  };
}
type Doc = ReturnType<typeof validDoc>;
const edit = (change: (doc: Doc & Record<string, unknown>) => void) => {
  const doc = validDoc() as Doc & Record<string, unknown>;
  change(doc);
  return JSON.stringify(doc);
};

describe('COCO import of malformed files', () => {
  let dir: string;
  let service: WorkspaceService;
  let chosenFile: string | null = null;
  const errors: string[] = [];
  const projectFiles = () => ['project.json', 'journal.jsonl'].map((f) => path.join(dir, '.fashion-detect', f));
  const readProject = () => projectFiles().map((f) => (fs.existsSync(f) ? fs.readFileSync(f) : null));
  const boxesOf = async () => {
    const ws = await service.getWorkspace();
    return Promise.all(ws.images.map(async (i) => ({ name: i.name, state: i.state, boxes: (await service.getImage({ id: i.id })).boxes })));
  };
  const settle = () => new Promise((r) => setTimeout(r, 400)); // past the service's journal flush delay

  beforeAll(async () => {
    dir = tempDir('fd-import-');
    fs.mkdirSync(path.join(dir, 'more'));
    for (const [k, name] of NAMES.entries()) await (await drawScene(240, 360, k + 1)).jpeg().toFile(path.join(dir, name));
    const dialogs: DialogHost = {
      chooseImages: async () => [],
      chooseFolder: async () => null,
      chooseExportTarget: async () => null,
      chooseCocoFile: async () => chosenFile,
    };
    service = new WorkspaceService({
      dataDir: tempDir('fd-import-data-'),
      autoLabelLimit: 0,
      allowPath: () => true,
      dialogs,
      emit: (e: ApiEvent) => {
        if (e.type === 'error') errors.push(e.message);
      },
    });
    await service.openPaths({ paths: [dir] });
  });

  afterAll(() => service.close());

  it('imports a valid file, and saves it', async () => {
    const r = await service.importCoco({ text: JSON.stringify(validDoc()) });
    expect(r).toMatchObject({ matched: 3, unmatched: 0, annotations: 3, problems: [] });
    await service.saveNow();
    const images = await boxesOf();
    expect(images.map((i) => i.state)).toEqual(['done', 'done', 'done']);
    expect(images.find((i) => i.name === 'look2.jpg')!.boxes).toMatchObject([{ categoryId: 7, score: 0.8, verified: false, bbox: [30, 300, 60, 40] }]);
  });

  it('fills in area and iscrowd where a file leaves them out, as many tools do', async () => {
    const before = await boxesOf();
    const bare = edit((d) => {
      for (const a of d.annotations) {
        delete (a as Partial<typeof a>).area;
        delete (a as Partial<typeof a>).iscrowd;
      }
    });
    const r = await service.importCoco({ text: bare });
    expect(r).toMatchObject({ matched: 3, unmatched: 0, annotations: 3, problems: [] });
    // The same boxes as the complete file gave (ids aside).
    const strip = (images: Awaited<ReturnType<typeof boxesOf>>) => images.map((i) => i.boxes.map(({ id: _, ...b }) => b));
    expect(strip(await boxesOf())).toEqual(strip(before));
    await service.saveNow();
  });

  const refused: [string, string | (() => string), RegExp][] = [
    ['an area that is not a number', () => edit((d) => (d.annotations[0].area = 'big' as never)), /annotations\[0\] \(id 1\)\.area/],
    ['broken JSON', () => JSON.stringify(validDoc()).slice(0, 200), /not JSON/],
    ['not JSON at all', 'id,file_name\n1,look1.jpg\n', /not JSON/],
    ['a results array, not a document', '[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]', /list of detection results, not a COCO document/],
    ['no images', () => edit((d) => delete (d as Partial<Doc>).images), /not a COCO detection document: images is missing/],
    ['an image without its width', () => edit((d) => delete (d.images[1] as Partial<Doc['images'][number]>).width), /images\[1\] \(look2\.jpg\)\.width is missing/],
    ['an annotation without a bbox', () => edit((d) => delete (d.annotations[2] as Partial<Doc['annotations'][number]>).bbox), /annotations\[2\] \(id 3\)\.bbox is missing/],
    ['a bbox of the wrong shape', () => edit((d) => (d.annotations[0].bbox = [1, 2, 3] as never)), /annotations\[0\] \(id 1\)\.bbox/],
    ['a negative box width', () => edit((d) => (d.annotations[0].bbox = [1, 2, -3, 4])), /annotations\[0\] \(id 1\)\.bbox\[2\]/],
    ['a score above 1', () => edit((d) => (d.annotations[1].score = 3)), /annotations\[1\] \(id 2\)\.score/],
    ['a duplicate image id', () => edit((d) => (d.images[2].id = 1)), /image id 1 is used twice \(look1\.jpg, more\/look3\.jpg\); nothing was changed/],
    ['an image listed twice', () => edit((d) => d.images.push({ id: 9, file_name: 'look1.jpg', width: 240, height: 360 })), /image look1\.jpg is listed twice \(ids 1 and 9\)/],
    ['a duplicate category id', () => edit((d) => d.categories.push({ id: 7, name: 'bag', supercategory: 'bag' })), /category id 7 is used twice \(footwear, bag\)/],
    ['a file over the size limit', () => ' '.repeat(MAX_IMPORT_BYTES) + JSON.stringify(validDoc()), /too large to import \(100 MB; at most 100 MB\): split it/],
  ];

  it('refuses each broken file with a clear message and changes nothing, on screen or on disk', async () => {
    const before = { images: await boxesOf(), files: readProject(), save: (await service.getWorkspace()).save };
    expect(before.files[0]).not.toBeNull();
    for (const [what, text, message] of refused) {
      const body = typeof text === 'function' ? text() : text;
      const result = await handleApiCall(service, 'importCoco', { text: body, fileName: 'labels.json' });
      expect(result, what).toMatchObject({ ok: false, error: { code: 'failed' } });
      if (!result.ok) {
        expect(result.error.message, what).toMatch(/^could not import labels\.json: /);
        expect(result.error.message, what).toMatch(message);
        expect(result.error.message.length, what).toBeLessThan(400);
      }
    }
    await settle();
    expect(await boxesOf()).toEqual(before.images);
    const after = readProject();
    expect(after[0]!.equals(before.files[0]!)).toBe(true);
    expect(String(after[1] ?? '')).toBe(String(before.files[1] ?? ''));
    expect((await service.getWorkspace()).save).toEqual(before.save);
    expect(errors).toEqual([]);
  });

  it('refuses a file over the size limit from the dialog before reading it, and names unreadable files', async () => {
    const huge = path.join(tempDir('fd-import-huge-'), 'huge.json');
    // Sparse: 100 MB + 1 on paper, nothing on the disk; reading it would take a moment and the memory.
    fs.writeFileSync(huge, '');
    fs.truncateSync(huge, MAX_IMPORT_BYTES + 1);
    chosenFile = huge;
    await expect(service.importCoco({})).rejects.toThrow(/could not import huge\.json: the file is too large to import/);
    // A broken file from the dialog is named in the message too.
    chosenFile = path.join(path.dirname(huge), 'broken.json');
    fs.writeFileSync(chosenFile, '{"images": [');
    await expect(service.importCoco({})).rejects.toThrow(/^could not import broken\.json: the file is not JSON/);
    chosenFile = path.join(path.dirname(huge), 'gone.json');
    await expect(service.importCoco({})).rejects.toThrow(/could not import gone\.json: file not found/);
    chosenFile = path.dirname(huge);
    await expect(service.importCoco({})).rejects.toThrow(/not a file/);
    chosenFile = null;
    expect(await service.importCoco({})).toMatchObject({ cancelled: true, matched: 0 });
  });

  it('clips boxes reaching outside the image and leaves out boxes wholly outside, and says so', async () => {
    const text = edit((d) => {
      d.annotations[0].bbox = [-10, 300, 100, 100]; // clipped to [0, 300, 90, 60]
      d.annotations.push({ id: 4, image_id: 1, category_id: 1, bbox: [500, 500, 20, 20], area: 400, iscrowd: 0 }); // wholly outside
      d.annotations.push({ id: 5, image_id: 1, category_id: 7, bbox: [10, 10, 0, 30], area: 0, iscrowd: 0 }); // empty
    });
    const r = await service.importCoco({ text });
    expect(r.annotations).toBe(3);
    expect(r.problems).toEqual(['1 box reaching outside its image clipped to it', '2 boxes wholly outside their image (or empty) left out']);
    const look1 = (await boxesOf()).find((i) => i.name === 'look1.jpg')!;
    expect(look1.boxes.map((b) => b.bbox)).toEqual([[0, 300, 90, 60]]);
  });

  it('leaves out boxes of unknown categories, images and category ids, and notes duplicate annotation ids', async () => {
    const text = edit((d) => {
      d.categories.push({ id: 20, name: 'umbrella', supercategory: 'thing' }, { id: 21, name: 'person', supercategory: 'person' });
      d.annotations.push(
        { id: 4, image_id: 1, category_id: 20, bbox: [1, 1, 5, 5], area: 25, iscrowd: 0 },
        { id: 5, image_id: 2, category_id: 21, bbox: [1, 1, 5, 5], area: 25, iscrowd: 0 },
        { id: 6, image_id: 42, category_id: 1, bbox: [1, 1, 5, 5], area: 25, iscrowd: 0 },
        { id: 7, image_id: 3, category_id: 99, bbox: [1, 1, 5, 5], area: 25, iscrowd: 0 },
        { id: 3, image_id: 3, category_id: 7, bbox: [60, 60, 10, 10], area: 100, iscrowd: 0 },
      );
      d.images.push({ id: 8, file_name: 'elsewhere/not-open.jpg', width: 100, height: 100 });
      d.categories[0].name = 'Top'; // names match whatever their case
    });
    const r = await service.importCoco({ text });
    expect(r).toMatchObject({ matched: 3, unmatched: 1, annotations: 4 });
    expect(r.problems).toEqual([
      '2 boxes of 2 categories this model does not have ("umbrella", "person") left out',
      "1 box with a category id that is not in the file's categories left out",
      "1 box with an image id that is not in the file's images left out",
      'annotation ids used more than once (3): every box was imported, with ids of its own',
      '1 image of the file is not open here (elsewhere/not-open.jpg)',
    ]);
    const images = await boxesOf();
    expect(images.find((i) => i.name === 'more/look3.jpg')!.boxes.map((b) => [b.categoryId, ...b.bbox])).toEqual([
      [1, 5, 5, 50, 50],
      [7, 60, 60, 10, 10],
    ]);
    // An unknown category never lands on one of ours by its id: "umbrella" is id 20, "person" would not be "top".
    for (const img of images) expect(img.boxes.every((b) => b.categoryId === 1 || b.categoryId === 7)).toBe(true);
  });

  it('saves an import as one journal record: the whole import or none of it after a crash', async () => {
    await service.saveNow();
    const journal = projectFiles()[1];
    expect(fs.readFileSync(journal, 'utf8')).toBe('');
    await service.importCoco({ text: JSON.stringify(validDoc()) });
    await service.getWorkspace();
    for (let i = 0; i < 50 && !fs.readFileSync(journal, 'utf8'); i++) await settle();
    const lines = fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]);
    expect(record.t).toBe('batch');
    expect(record.images.map((i: { name: string }) => i.name).sort()).toEqual([...NAMES].sort());
  });
});
