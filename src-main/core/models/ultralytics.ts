import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { UsageError } from '../base/errors.js';
import { manifestSchema, type ModelManifest } from './manifest.js';

/**
 * A tfjs graph model exported by Ultralytics (`yolo export format=tfjs`, YOLOv5u, v8, v11; or YOLOv5's
 * own export with a metadata.yaml beside it): model.json, group1-shard*.bin and metadata.yaml. Such a
 * folder has no manifest.json; this module writes one in memory from what the folder says.
 *
 * What Ultralytics exports take: NHWC float RGB in 0..1 (pixels / 255), letterboxed with grey 114.
 * What they give: one output, [1, 4 + nc, N] (v8, v11: cx, cy, w, h, then class scores) or
 * [1, N, 5 + nc] (v5: with objectness), boxes in input pixels or 0..1; decodeYolo handles both.
 */

export const ULTRALYTICS_MODEL_FILE = 'model.json';
export const ULTRALYTICS_METADATA_FILE = 'metadata.yaml';

interface TensorShape {
  dim?: { size?: string | number }[];
  unknownRank?: boolean;
}

interface GraphModelJson {
  format?: string;
  modelTopology?: { node?: { name: string; op: string; attr?: { shape?: { shape?: TensorShape } } }[] };
  signature?: {
    inputs?: Record<string, { tensorShape?: TensorShape }>;
    outputs?: Record<string, { tensorShape?: TensorShape }>;
  };
  weightsManifest?: { paths: string[] }[];
}

/** True for a folder that looks like an Ultralytics tfjs export rather than one of our model folders. */
export function isUltralyticsExport(dir: string): boolean {
  return !fs.existsSync(path.join(dir, 'manifest.json')) && fs.existsSync(path.join(dir, ULTRALYTICS_MODEL_FILE));
}

/** Dimensions of a tfjs tensor shape; -1 where unknown; undefined for an unknown rank. */
function dims(shape: TensorShape | undefined): number[] | undefined {
  if (!shape || shape.unknownRank || !shape.dim) return undefined;
  return shape.dim.map((d) => (d.size === undefined ? -1 : Number(d.size)));
}

function readModelJson(file: string): GraphModelJson {
  let json: GraphModelJson;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new UsageError(`${file}: not a TensorFlow.js graph model (no modelTopology or weightsManifest)`);
  }
  return json;
}

function readMetadata(file: string): Record<string, unknown> {
  if (!fs.existsSync(file)) {
    throw new UsageError(
      `${path.dirname(file)}: no manifest.json, and no ${ULTRALYTICS_METADATA_FILE} beside ${ULTRALYTICS_MODEL_FILE}; an Ultralytics export (yolo export format=tfjs) writes one with the class names`,
    );
  }
  let meta: unknown;
  try {
    meta = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) throw new UsageError(`${file}: expected keys such as names, imgsz and task`);
  return meta as Record<string, unknown>;
}

/** `names: {0: person, 1: bicycle}` or `names: [person, bicycle]`, in class order. */
function classNames(meta: Record<string, unknown>, file: string): string[] {
  const raw = meta.names;
  if (Array.isArray(raw)) {
    if (raw.length === 0) throw new UsageError(`${file}: names is empty`);
    return raw.map(String);
  }
  if (!raw || typeof raw !== 'object') throw new UsageError(`${file}: no class names (a names: {0: ..., 1: ...} mapping)`);
  const entries = Object.entries(raw as Record<string, unknown>);
  const names: string[] = [];
  for (const [key, value] of entries) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= entries.length) {
      throw new UsageError(`${file}: names: class ${key} is not one of 0 to ${entries.length - 1}`);
    }
    names[index] = String(value);
  }
  if (entries.length === 0) throw new UsageError(`${file}: names is empty`);
  return names;
}

/** Input size: the graph's input placeholder where it is fixed, else metadata's imgsz ([height, width]). */
function inputGeometry(json: GraphModelJson, meta: Record<string, unknown>, metaFile: string): { width: number; height: number; layout: 'NHWC' | 'NCHW' } {
  const signatureInput = Object.values(json.signature?.inputs ?? {})[0]?.tensorShape;
  const placeholder = json.modelTopology?.node?.find((n) => n.op === 'Placeholder')?.attr?.shape?.shape;
  const shape = dims(signatureInput) ?? dims(placeholder);
  if (shape && shape.length === 4) {
    if (shape[3] === 3 && shape[1] > 0 && shape[2] > 0) return { height: shape[1], width: shape[2], layout: 'NHWC' };
    if (shape[1] === 3 && shape[2] > 0 && shape[3] > 0) return { height: shape[2], width: shape[3], layout: 'NCHW' };
  }
  const imgsz = meta.imgsz;
  const size = Array.isArray(imgsz) ? imgsz.map(Number) : typeof imgsz === 'number' ? [imgsz, imgsz] : [];
  const [height, width] = size.length === 1 ? [size[0], size[0]] : size;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new UsageError(`${metaFile}: no input size: the graph's input has no fixed shape and imgsz is missing`);
  }
  return { height, width, layout: shape?.length === 4 && shape[1] === 3 ? 'NCHW' : 'NHWC' };
}

/** v8 for [1, 4 + nc, N], v5 for [1, N, 5 + nc]; undefined when the file does not say (decodeYolo then reads the shape). */
function variantFromSignature(json: GraphModelJson, numClasses: number, file: string): 'v5' | 'v8' | undefined {
  const outputs = Object.values(json.signature?.outputs ?? {});
  const shape = dims(outputs[0]?.tensorShape);
  if (!shape || shape.length !== 3) return undefined;
  if (shape[1] === 4 + numClasses) return 'v8';
  if (shape[2] === 5 + numClasses) return 'v5';
  if (shape[1] > 0 && shape[2] > 0) {
    throw new UsageError(
      `${file}: the output [${shape.join(', ')}] fits neither [1, 4 + ${numClasses}, N] (YOLOv8, v11) nor [1, N, 5 + ${numClasses}] (YOLOv5) for the ${numClasses} class names in ${ULTRALYTICS_METADATA_FILE}`,
    );
  }
  return undefined;
}

function idFromFolder(dir: string): string {
  const id = path.basename(path.resolve(dir)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
  return id || 'ultralytics-model';
}

/** The manifest of an Ultralytics tfjs export folder, synthesised from its metadata.yaml and model.json. */
export function ultralyticsManifest(dir: string): ModelManifest {
  const modelFile = path.join(dir, ULTRALYTICS_MODEL_FILE);
  const metaFile = path.join(dir, ULTRALYTICS_METADATA_FILE);
  const json = readModelJson(modelFile);
  const meta = readMetadata(metaFile);
  if (meta.task !== undefined && meta.task !== 'detect') {
    throw new UsageError(`${metaFile}: task is ${String(meta.task)}; only detection models (task: detect) can be used`);
  }
  const labels = classNames(meta, metaFile);
  const { width, height, layout } = inputGeometry(json, meta, metaFile);
  const variant = variantFromSignature(json, labels.length, modelFile) ?? 'v8';
  const unique = [...new Set(labels)];
  const weights = json.weightsManifest!.flatMap((g) => g.paths).map((file) => {
    const full = path.join(dir, file);
    if (!fs.existsSync(full)) throw new UsageError(`${dir}: ${file}, listed in ${ULTRALYTICS_MODEL_FILE}, is missing`);
    return { file, sha256: createHash('sha256').update(fs.readFileSync(full)).digest('hex') };
  });
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const parsed = manifestSchema.safeParse({
    id: idFromFolder(dir),
    name: `${text(meta.description) ?? path.basename(path.resolve(dir))} (Ultralytics export)`,
    version: text(meta.version) ?? '0',
    format: 'tfjs-graph',
    modelFile: ULTRALYTICS_MODEL_FILE,
    input: { width, height, layout, channels: 'RGB', mean: [0, 0, 0], std: [255, 255, 255], padValue: 114 },
    output: { decoder: 'yolo', variant },
    labels,
    categories: unique.map((name, i) => ({ id: i + 1, name, supercategory: '' })),
    license: text(meta.license) ?? `not stated in ${ULTRALYTICS_METADATA_FILE}`,
    source: { ...(text(meta.author) ? { trainedBy: text(meta.author) } : {}), ...(text(meta.docs) ? { url: text(meta.docs) } : {}) },
    weights,
  });
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new UsageError(`${dir}: cannot use this Ultralytics export: ${first.path.join('.')}: ${first.message}`);
  }
  return parsed.data;
}
