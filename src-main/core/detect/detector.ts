import fs from 'node:fs';
import path from 'node:path';
import { initBackend, tf } from '../base/backend.js';
import { boxToSource } from '../images/letterbox.js';
import { decodeLetterboxed, type LetterboxedImage } from '../images/decode.js';
import { decodeNanodet, type NanodetLevel } from '../models/decode-nanodet.js';
import { decodeYolo } from '../models/decode-yolo.js';
import { defaultMinScoreOf, type ModelManifest } from '../models/manifest.js';
import { resolveModel, type ResolvedModel } from '../models/registry.js';
import { classwiseNms, type Candidate } from './nms.js';
import { loadBaseGraph, NANODET_FPN } from '../models/fpn-base.js';
import { headInference, loadHead } from '../models/fpn-head.js';
import { tailBaseOutputs } from '../models/tail.js';

export type BBox = [x: number, y: number, width: number, height: number];

export interface Detection {
  category: string;
  categoryId: number;
  score: number;
  /** [x, y, width, height] in upright pixels of the original picture. */
  bbox: BBox;
}

export interface StageTimings {
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
}

export interface ImageDetections {
  file: string;
  width: number;
  height: number;
  detections: Detection[];
  timings: StageTimings;
}

const MAX_DETECTIONS = 100;

/** Loads a tfjs graph model from local files only: the weights never come from the network. */
export async function loadGraphModel(dir: string, modelFile: string): Promise<tf.GraphModel> {
  const json = JSON.parse(fs.readFileSync(path.join(dir, modelFile), 'utf8'));
  const groups: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] = json.weightsManifest;
  const weightSpecs = groups.flatMap((g) => g.weights);
  const buffers = groups.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return tf.loadGraphModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData, format: json.format, signature: json.signature }),
  );
}

/** Which raw class feeds which reported category: the key to decoding only what is wanted. */
function classToCategory(manifest: ModelManifest): Map<number, { id: number; name: string }> {
  const byName = new Map(manifest.categories.map((c) => [c.name, c]));
  const map = new Map<number, { id: number; name: string }>();
  manifest.labels.forEach((label, index) => {
    const name = manifest.labelToCategory ? manifest.labelToCategory[label] : label;
    const category = name === undefined ? undefined : byName.get(name);
    if (category) map.set(index, { id: category.id, name: category.name });
  });
  return map;
}

/** Normalises interleaved RGB bytes into a model's layout, channel order, mean and std. */
export function imageToInputTensor(image: LetterboxedImage, input: ModelManifest['input']): tf.Tensor {
  const { width, height, layout, channels, mean, std } = input;
  const plane = width * height;
  const out = new Float32Array(plane * 3);
  const order = channels === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const rgb = image.rgb;
  for (let c = 0; c < 3; c++) {
    const src = order[c];
    const m = mean[c];
    const inv = 1 / std[c];
    if (layout === 'NCHW') {
      const base = c * plane;
      for (let i = 0; i < plane; i++) out[base + i] = (rgb[i * 3 + src] - m) * inv;
    } else {
      for (let i = 0; i < plane; i++) out[i * 3 + c] = (rgb[i * 3 + src] - m) * inv;
    }
  }
  return tf.tensor(out, layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3]);
}

/** A model's forward pass: input tensor to output tensors, which the caller disposes. */
interface Network {
  run(input: tf.Tensor): tf.Tensor[];
  dispose(): void;
}

/**
 * An 'fpn-head' model: the base model's pyramid (its files checked against the hashes this manifest
 * was trained on) and the trained head. Outputs: per level, scores then distances.
 */
async function loadFpnHeadNetwork(model: ResolvedModel): Promise<Network> {
  const { manifest } = model;
  const base = manifest.base!;
  const baseModel = resolveModel(base.model);
  for (const w of base.weights) {
    const installed = baseModel.manifest.weights.find((b) => b.file === w.file);
    if (installed?.sha256 !== w.sha256) {
      throw new Error(`model ${manifest.id} was trained on ${base.model}'s ${w.file} with sha256 ${w.sha256.slice(0, 12)}..., but the installed one differs`);
    }
  }
  const graph = await loadBaseGraph(baseModel.dir, baseModel.manifest.modelFile, manifest.input.width, manifest.input.height, base.int32Overrides);
  const { spec, params } = loadHead(model.dir, manifest.modelFile);
  if (spec.numClasses !== manifest.labels.length || spec.bins !== (manifest.output as { bins?: number }).bins) {
    throw new Error(`model ${manifest.id}: the head's ${spec.numClasses} classes and ${spec.bins} bins do not match the manifest`);
  }
  const takes = spec.tailUnits > 0 ? tailBaseOutputs(spec.tailUnits) : NANODET_FPN.outputs;
  if (base.outputs.length !== takes.length) {
    graph.dispose();
    tf.dispose(Object.values(params));
    throw new Error(`model ${manifest.id}: its head takes ${takes.length} outputs of the base (${spec.tailUnits > 0 ? `it carries ${spec.tailUnits} units of the backbone` : 'its pyramid'}), but the manifest names ${base.outputs.length}`);
  }
  return {
    run(input) {
      const features = graph.execute(input, base.outputs) as tf.Tensor[];
      try {
        return headInference(features, params, spec.numClasses);
      } finally {
        tf.dispose(features);
      }
    },
    dispose() {
      graph.dispose();
      tf.dispose(Object.values(params));
    },
  };
}

/** One loaded model with its decoding; one per worker thread. */
export class Detector {
  private readonly classMap: Map<number, { id: number; name: string }>;
  /** Category ids its training data labels once per photo at most (see classwiseNms). */
  private readonly singleInstance: ReadonlySet<number>;
  private readonly wanted: Set<number>;

  private constructor(
    readonly model: ResolvedModel,
    private readonly network: Network,
  ) {
    this.classMap = classToCategory(model.manifest);
    this.singleInstance = new Set(model.manifest.singleInstanceCategories ?? []);
    this.wanted = new Set(this.classMap.keys());
  }

  static async load(model: ResolvedModel): Promise<Detector> {
    await initBackend();
    let network: Network;
    if (model.manifest.format === 'fpn-head') {
      network = await loadFpnHeadNetwork(model);
    } else {
      const graph = await loadGraphModel(model.dir, model.manifest.modelFile);
      network = {
        run: (input) => {
          const out = graph.execute(input);
          return Array.isArray(out) ? out : [out];
        },
        dispose: () => graph.dispose(),
      };
    }
    const detector = new Detector(model, network);
    detector.warmUp();
    return detector;
  }

  get inputWidth(): number {
    return this.model.manifest.input.width;
  }

  get inputHeight(): number {
    return this.model.manifest.input.height;
  }

  /** The first run compiles kernels; doing it at load keeps it out of the first photo's time. */
  private warmUp(): void {
    const { width, height, layout } = this.model.manifest.input;
    const shape = layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3];
    tf.tidy(() => {
      this.network.run(tf.zeros(shape)).forEach((t) => t.dataSync());
    });
  }

  decode(file: string): Promise<LetterboxedImage> {
    return decodeLetterboxed(file, this.inputWidth, this.inputHeight, this.model.manifest.input.padValue);
  }

  /** Normalises interleaved RGB bytes into the model's layout, channel order, mean and std. */
  toInputTensor(image: LetterboxedImage): tf.Tensor {
    return imageToInputTensor(image, this.model.manifest.input);
  }

  /** Runs the graph and returns its outputs as plain arrays with their shapes, in output order. */
  forward(input: tf.Tensor): { data: Float32Array; shape: number[] }[] {
    const outputs = this.network.run(input);
    try {
      return outputs.map((t) => ({ data: t.dataSync() as Float32Array, shape: t.shape }));
    } finally {
      tf.dispose(outputs);
    }
  }

  candidates(outputs: { data: Float32Array; shape: number[] }[], minScore: number): Candidate[] {
    const { manifest } = this.model;
    const numClasses = manifest.labels.length;
    const out = manifest.output;
    if (out.decoder === 'yolo') {
      const o = outputs[0];
      return decodeYolo(o.data, o.shape, out.variant, numClasses, minScore, this.wanted, this.inputWidth, this.inputHeight);
    }
    const fpnHead = manifest.format === 'fpn-head';
    const levels: NanodetLevel[] = out.strides.map((stride, level) => {
      const cols = Math.ceil(this.inputWidth / stride);
      const rows = Math.ceil(this.inputHeight / stride);
      const cells = cols * rows;
      // A trained head's outputs come in a known order; its class count may equal 4 x bins.
      if (fpnHead) return { stride, cols, rows, scores: outputs[2 * level].data, distances: outputs[2 * level + 1].data };
      const scores = outputs.find((o) => o.shape[1] === cells && o.shape[2] === numClasses);
      const distances = outputs.find((o) => o.shape[1] === cells && o.shape[2] === 4 * out.bins);
      if (!scores || !distances) throw new Error(`model ${manifest.id}: no outputs for stride ${stride} ([1, ${cells}, ${numClasses}] and [1, ${cells}, ${4 * out.bins}])`);
      return { stride, cols, rows, scores: scores.data, distances: distances.data };
    });
    return decodeNanodet(levels, numClasses, out.bins, minScore, this.wanted, this.inputWidth, this.inputHeight, out.scoreActivation === 'sigmoid');
  }

  /** Candidates to final detections: per-category NMS, then boxes mapped back to upright source pixels. */
  finish(candidates: Candidate[], image: LetterboxedImage, minScore: number): Detection[] {
    const iouThreshold = this.model.manifest.output.iouThreshold;
    // Suppress per reported category: handbag, backpack and suitcase all become one `bag`.
    const asCategories = candidates.map((c) => ({ ...c, classIndex: this.classMap.get(c.classIndex)!.id }));
    const kept = classwiseNms(asCategories, iouThreshold, { maxKeep: MAX_DETECTIONS, minScore, singleInstanceClasses: this.singleInstance });
    const names = new Map(this.model.manifest.categories.map((c) => [c.id, c.name]));
    return kept
      .map((c) => {
        const [x, y, w, h] = boxToSource(image.box, c.x1, c.y1, c.x2, c.y2);
        return {
          category: names.get(c.classIndex)!,
          categoryId: c.classIndex,
          score: round(c.score, 4),
          bbox: [round(x, 2), round(y, 2), round(w, 2), round(h, 2)] as BBox,
        };
      })
      .filter((d) => d.bbox[2] >= 1 && d.bbox[3] >= 1);
  }

  /** Detection on an already decoded picture; the caller decodes, so decoding can overlap inference. */
  detectDecoded(file: string, image: LetterboxedImage, minScore: number, decodeMs = 0): ImageDetections {
    const t0 = performance.now();
    const input = this.toInputTensor(image);
    const t1 = performance.now();
    let outputs: { data: Float32Array; shape: number[] }[];
    try {
      outputs = this.forward(input);
    } finally {
      input.dispose();
    }
    const t2 = performance.now();
    const detections = this.finish(this.candidates(outputs, minScore), image, minScore);
    const t3 = performance.now();
    return {
      file,
      width: image.width,
      height: image.height,
      detections,
      timings: { decodeMs, preprocessMs: t1 - t0, inferenceMs: t2 - t1, postprocessMs: t3 - t2 },
    };
  }

  async detectFile(file: string, minScore = defaultMinScoreOf(this.model.manifest)): Promise<ImageDetections> {
    const t0 = performance.now();
    const image = await this.decode(file);
    return this.detectDecoded(file, image, minScore, performance.now() - t0);
  }

  dispose(): void {
    this.network.dispose();
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
