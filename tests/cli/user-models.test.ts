// Models trained in the app live in its data folder (FASHION_DETECT_USER_DATA here); added model
// folders are listed there too. The command line and the registry see them beside the built-in ones.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { userDataDir } from '../../src-main/core/base/user-data';
import { addModelFolder, installedModels } from '../../src-main/core/models/installed';
import { resolveModel } from '../../src-main/core/models/registry';
import { train } from '../../src-main/core/train/train';
import { keepCategories, runCli, sceneDataset, tempDir } from '../helpers';

process.env.FASHION_DETECT_BACKEND = 'wasm';

describe("the app's data folder", () => {
  it('is FASHION_DETECT_USER_DATA where set, else where Electron keeps this app\'s data on each platform', () => {
    expect(userDataDir({ FASHION_DETECT_USER_DATA: '/tmp/x/../profile' }, 'linux')).toBe('/tmp/profile');
    expect(userDataDir({ XDG_CONFIG_HOME: '/cfg' }, 'linux')).toBe('/cfg/fashion-detect');
    expect(userDataDir({ APPDATA: 'C:/Users/a/AppData/Roaming' }, 'win32')).toMatch(/Roaming[\\/]fashion-detect$/);
    expect(userDataDir({}, 'darwin')).toMatch(/Library[\\/]Application Support[\\/]fashion-detect$/);
  });
});

describe('models trained in the app', () => {
  let userData: string;
  let photos: string;

  beforeAll(async () => {
    userData = tempDir('fd-user-data-');
    photos = tempDir('fd-user-photos-');
    const annotations = keepCategories(await sceneDataset(photos, 6), ['footwear'], 'shoes.json');
    const out = path.join(userData, 'models', 'my-shoes');
    const result = await train({ annotations, images: photos, out, epochs: 1, batchSize: 2, width: 8, valSplit: 0.2, input: { width: 224, height: 320 }, cacheDir: false, name: 'My shoes' });
    expect(result.status).toBe('finished');
  });

  it('are listed and found by id in the registry, after the built-in ones', () => {
    const list = installedModels({ dataDir: userData });
    expect(list.map((m) => [m.id, m.source])).toEqual([['coco-nanodet', 'built-in'], ['fashion-ccp', 'built-in'], ['my-shoes', 'trained']]);
    expect(list[2].validation?.perCategory.map((c) => c.name)).toEqual(['footwear']);
    expect(list[2].trainedAt).toMatch(/^\d{4}-/);
    expect(resolveModel('my-shoes', undefined, userData).manifest.categories.map((c) => c.name)).toEqual(['footwear']);
    expect(() => resolveModel('no-such', undefined, userData)).toThrow(/unknown model "no-such"; installed models: coco-nanodet, fashion-ccp, my-shoes/);
  });

  it('info --json lists them, and detect --model uses one', async () => {
    const env = { FASHION_DETECT_USER_DATA: userData };
    const info = await runCli(['info', '--json'], { env });
    expect(info.code, info.stderr).toBe(0);
    const listed = JSON.parse(info.stdout).models.find((m: { id: string }) => m.id === 'my-shoes');
    expect(listed).toMatchObject({ source: 'trained', installed: true, categories: ['footwear'], folder: path.join(userData, 'models', 'my-shoes') });
    const detect = await runCli(['detect', '--model', 'my-shoes', '--min-score', '0', path.join(photos, 'scene-1.jpg')], { env });
    expect(detect.code, detect.stderr).toBe(0);
    const detections = JSON.parse(detect.stdout).detections as { category: string }[];
    expect(detections.length).toBeGreaterThan(0);
    expect(new Set(detections.map((d) => d.category))).toEqual(new Set(['footwear']));
    // Without the data folder the id is unknown (and the message names what is installed).
    const elsewhere = await runCli(['detect', '--model', 'my-shoes', path.join(photos, 'scene-1.jpg')], { env: { FASHION_DETECT_USER_DATA: tempDir() } });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/unknown model "my-shoes"/);
  });

  it('an added folder is listed and found by its id; a second model of the same id is refused', () => {
    const copy = path.join(tempDir('fd-added-'), 'shoes-copy');
    fs.cpSync(path.join(userData, 'models', 'my-shoes'), copy, { recursive: true });
    const manifestFile = path.join(copy, 'manifest.json');
    fs.writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(manifestFile, 'utf8')), id: 'shoes-copy' }));
    const added = addModelFolder(copy, userData);
    expect(added).toMatchObject({ id: 'shoes-copy', source: 'folder', dir: copy });
    expect(installedModels({ dataDir: userData }).at(-1)).toMatchObject({ id: 'shoes-copy', source: 'folder' });
    expect(resolveModel('shoes-copy', undefined, userData).dir).toBe(copy);
    // Added twice: listed once.
    addModelFolder(copy, userData);
    expect(installedModels({ dataDir: userData }).filter((m) => m.id === 'shoes-copy')).toHaveLength(1);
    const clash = path.join(tempDir('fd-added-'), 'clash');
    fs.cpSync(path.join(userData, 'models', 'my-shoes'), clash, { recursive: true });
    expect(() => addModelFolder(clash, userData)).toThrow(/a model with the id "my-shoes" is installed already/);
    expect(() => addModelFolder(tempDir(), userData)).toThrow(/no manifest\.json in this model folder/);
  });
});
