import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveModel } from '../../src-main/core/models/registry';
import { runCli, tempDir } from '../helpers';

// Run `npx tsc -p .` first: these spawn dist/main/cli/main.js.

/**
 * A tfjs graph model built by hand in the form Ultralytics exports take: input x [1, 64, 64, 3] (NHWC,
 * RGB / 255), one output. Flatten, MatMul with constant weights, add a constant bias, reshape (and for
 * v8 transpose) to [1, 4 + nc, N] or [1, N, 5 + nc]. The bias holds the boxes; the weights make each
 * class score the mean of one colour channel over a patch of the input, so the scores, and which class
 * wins, follow the picture: a red square scores 1 as `red thing`, a blue one as `blue thing`.
 */
const SIZE = 64;
const NAMES = ['red thing', 'blue thing'];
type Rect = { x0: number; y0: number; x1: number; y1: number };
/** Per anchor: its box (cx, cy, w, h in input pixels) and the patch its class scores read. */
const ANCHORS: { box: [number, number, number, number]; patch: Rect }[] = [
  { box: [16, 16, 16, 16], patch: { x0: 11, y0: 11, x1: 21, y1: 21 } }, // over the red square
  { box: [48, 32, 16, 24], patch: { x0: 43, y0: 23, x1: 53, y1: 41 } }, // over the blue one
  { box: [31, 35, 10, 10], patch: { x0: 26, y0: 30, x1: 36, y1: 40 } }, // black background: scores 0
];

function weightsFor(variant: 'v5' | 'v8', objectness: number) {
  const nc = NAMES.length;
  const row = variant === 'v8' ? 4 + nc : 5 + nc;
  const first = variant === 'v8' ? 4 : 5;
  const k = ANCHORS.length * row;
  const w = new Float32Array(SIZE * SIZE * 3 * k);
  const b = new Float32Array(k);
  ANCHORS.forEach(({ box, patch }, n) => {
    // v5 exports give boxes in 0..1 of the input, v8 in input pixels: decodeYolo must read both.
    box.forEach((v, f) => (b[n * row + f] = variant === 'v5' ? v / SIZE : v));
    if (variant === 'v5') b[n * row + 4] = objectness;
    const count = (patch.x1 - patch.x0) * (patch.y1 - patch.y0);
    for (let y = patch.y0; y < patch.y1; y++) {
      for (let x = patch.x0; x < patch.x1; x++) {
        const pixel = (y * SIZE + x) * 3;
        w[(pixel + 0) * k + n * row + first + 0] = 1 / count; // red channel -> class 0
        w[(pixel + 2) * k + n * row + first + 1] = 1 / count; // blue channel -> class 1
      }
    }
  });
  return { w, b, k, row };
}

const dim = (...sizes: number[]) => ({ dim: sizes.map((s) => ({ size: String(s) })) });
const constNode = (name: string, dtype: 'DT_FLOAT' | 'DT_INT32', shape: number[]) => ({
  name,
  op: 'Const',
  attr: { dtype: { type: dtype }, value: { tensor: { dtype, tensorShape: dim(...shape) } } },
});

/** Writes model.json, group1-shard1of1.bin and metadata.yaml; returns the folder. */
function writeYoloExport(dir: string, variant: 'v5' | 'v8', opts: { signatureShape?: boolean; metadata?: string } = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  const { w, b, k, row } = weightsFor(variant, 0.9);
  const n = ANCHORS.length;
  const flatShape = new Int32Array([1, SIZE * SIZE * 3]);
  const rowsShape = new Int32Array([1, n, row]);
  const perm = new Int32Array([0, 2, 1]);
  const outShape = variant === 'v8' ? [1, row, n] : [1, n, row];
  const T = { T: { type: 'DT_FLOAT' } };
  const nodes: object[] = [
    { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dim(1, SIZE, SIZE, 3) } } },
    constNode('flat_shape', 'DT_INT32', [2]),
    constNode('w', 'DT_FLOAT', [SIZE * SIZE * 3, k]),
    constNode('b', 'DT_FLOAT', [k]),
    constNode('rows_shape', 'DT_INT32', [3]),
    { name: 'flat', op: 'Reshape', input: ['x', 'flat_shape'], attr: { ...T, Tshape: { type: 'DT_INT32' } } },
    { name: 'mm', op: 'MatMul', input: ['flat', 'w'], attr: { ...T, transpose_a: { b: false }, transpose_b: { b: false } } },
    { name: 'biased', op: 'AddV2', input: ['mm', 'b'], attr: T },
    { name: variant === 'v8' ? 'rows' : 'Identity', op: 'Reshape', input: ['biased', 'rows_shape'], attr: { ...T, Tshape: { type: 'DT_INT32' } } },
  ];
  const specs = [
    { name: 'flat_shape', shape: [2], dtype: 'int32', data: flatShape },
    { name: 'w', shape: [SIZE * SIZE * 3, k], dtype: 'float32', data: w },
    { name: 'b', shape: [k], dtype: 'float32', data: b },
    { name: 'rows_shape', shape: [3], dtype: 'int32', data: rowsShape },
  ];
  if (variant === 'v8') {
    nodes.push(constNode('perm', 'DT_INT32', [3]));
    nodes.push({ name: 'Identity', op: 'Transpose', input: ['rows', 'perm'], attr: { ...T, Tperm: { type: 'DT_INT32' } } });
    specs.push({ name: 'perm', shape: [3], dtype: 'int32', data: perm });
  }
  const output = opts.signatureShape ? { name: 'Identity:0', dtype: 'DT_FLOAT', tensorShape: dim(...outShape) } : { name: 'Identity:0' };
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'fashion-detect tests',
    convertedBy: 'hand',
    // Real Ultralytics exports name the output and leave its shape out; the loader must cope with both.
    signature: { outputs: { 'Identity:0': output } },
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: specs.map(({ data: _, ...s }) => s) }],
  };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
  fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), Buffer.concat(specs.map((s) => Buffer.from(s.data.buffer))));
  fs.writeFileSync(
    path.join(dir, 'metadata.yaml'),
    opts.metadata ??
      `description: Test YOLO${variant} model\nauthor: Fashion Detect tests\nlicense: MIT\nversion: 8.3.0\nstride: 32\ntask: detect\nbatch: 1\nimgsz:\n- ${SIZE}\n- ${SIZE}\nnames:\n  0: ${NAMES[0]}\n  1: ${NAMES[1]}\n`,
  );
  return dir;
}

/** A 128 x 96 picture: black, a red square at (16, 16) 32 x 32, a blue box at (80, 40) 32 x 48. */
async function writePicture(file: string): Promise<void> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="96">
    <rect width="128" height="96" fill="#000"/>
    <rect x="16" y="16" width="32" height="32" fill="#ff0000"/>
    <rect x="80" y="40" width="32" height="48" fill="#0000ff"/>
  </svg>`;
  await sharp(Buffer.from(svg)).png().toFile(file);
}

describe('bring your own Ultralytics YOLO model (tfjs export folder)', () => {
  let root: string;
  let picture: string;
  beforeAll(async () => {
    root = tempDir('fd-yolo-');
    picture = path.join(root, 'red and blue.png');
    await writePicture(picture);
  });

  it('reads the folder as a model: names from metadata.yaml, ids from 1, NHWC RGB / 255', () => {
    const model = resolveModel(writeYoloExport(path.join(root, 'My YOLOv8 web_model'), 'v8'));
    const m = model.manifest;
    expect(m.id).toBe('my-yolov8-web_model');
    expect(m.labels).toEqual(NAMES);
    expect(m.categories).toEqual([{ id: 1, name: 'red thing', supercategory: '' }, { id: 2, name: 'blue thing', supercategory: '' }]);
    expect(m.labelToCategory).toBeUndefined();
    expect(m.input).toMatchObject({ width: 64, height: 64, layout: 'NHWC', channels: 'RGB', mean: [0, 0, 0], std: [255, 255, 255] });
    expect(m.output).toMatchObject({ decoder: 'yolo', variant: 'v8' });
    expect(m.license).toBe('MIT');
  });

  it('takes names as a list and the input size from imgsz ([height, width]) where the graph input is not fixed', () => {
    const dir = writeYoloExport(path.join(root, 'dynamic'), 'v8', { metadata: 'task: detect\nimgsz: [48, 80]\nnames: [red thing, blue thing]\n' });
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    json.modelTopology.node[0].attr.shape.shape = { dim: [{ size: '-1' }, { size: '-1' }, { size: '-1' }, { size: '3' }] };
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    const m = resolveModel(dir).manifest;
    expect([m.input.width, m.input.height, m.input.layout]).toEqual([80, 48, 'NHWC']);
    expect(m.labels).toEqual(NAMES);
    expect(m.license).toBe('not stated in metadata.yaml');
  });

  // Without the output shape in model.json the layout is found from the output at the first run.
  for (const [variant, signatureShape, score] of [['v8', false, 1], ['v5', true, 0.9], ['v5', false, 0.9]] as const) {
    it(`fashion-detect detect --model <folder> finds the boxes with their class names (YOLO${variant}, output ${variant === 'v8' ? '[1, 6, 3]' : '[1, 3, 7]'}, shape ${signatureShape ? 'in model.json' : 'found at run time'})`, async () => {
      const folder = writeYoloExport(path.join(root, `yolo${variant}-${signatureShape}_web_model`), variant, { signatureShape });
      if (signatureShape) expect(resolveModel(folder).manifest.output).toMatchObject({ variant });
      const run = await runCli(['detect', '--model', folder, picture]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const result = JSON.parse(run.stdout);
      expect([result.width, result.height]).toEqual([128, 96]);
      const found = result.detections.map((d: { category: string; categoryId: number; score: number; bbox: number[] }) => ({ ...d, bbox: d.bbox.map((v) => Math.round(v)) }));
      expect(found).toHaveLength(2);
      const red = found.find((d: { category: string }) => d.category === 'red thing');
      const blue = found.find((d: { category: string }) => d.category === 'blue thing');
      // Input pixels map back at scale 2 (128 x 96 letterboxed into 64 x 64, padded at the bottom).
      expect(red).toMatchObject({ categoryId: 1, bbox: [16, 16, 32, 32] });
      expect(blue).toMatchObject({ categoryId: 2, bbox: [80, 40, 32, 48] });
      expect(red.score).toBeCloseTo(score, 2);
      expect(blue.score).toBeCloseTo(score, 2);
    });
  }

  it('FASHION_DETECT_MODEL points a run without --model (and the app) at the folder', async () => {
    const folder = writeYoloExport(path.join(root, 'from-env'), 'v8');
    const run = await runCli(['detect', picture], { env: { FASHION_DETECT_MODEL: folder } });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).detections.map((d: { category: string }) => d.category).sort()).toEqual(['blue thing', 'red thing']);
  });

  it('says what is wrong with a folder it cannot use', async () => {
    const noMeta = writeYoloExport(path.join(root, 'no-meta'), 'v8');
    fs.rmSync(path.join(noMeta, 'metadata.yaml'));
    let run = await runCli(['detect', '--model', noMeta, picture]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no manifest\.json, and no metadata\.yaml beside model\.json/);

    const segment = writeYoloExport(path.join(root, 'segment'), 'v8', { metadata: 'task: segment\nnames:\n  0: a\n' });
    run = await runCli(['detect', '--model', segment, picture]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/task is segment; only detection models/);

    // Three names for a two-class output: refused on the first picture rather than read as noise.
    const wrongNames = writeYoloExport(path.join(root, 'wrong-names'), 'v8', { metadata: 'task: detect\nimgsz: [64, 64]\nnames:\n  0: a\n  1: b\n  2: c\n' });
    run = await runCli(['detect', '--model', wrongNames, picture]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/output \[1, 6, 3\] fits neither \[1, 4 \+ 3, N\]/);

    const missingShard = writeYoloExport(path.join(root, 'missing-shard'), 'v8');
    fs.rmSync(path.join(missingShard, 'group1-shard1of1.bin'));
    run = await runCli(['detect', '--model', missingShard, picture]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/group1-shard1of1\.bin, listed in model\.json, is missing/);
  });
});
