import { boxToSource, type Letterbox } from '../images/letterbox.js';
import type { Candidate } from '../models/candidate.js';
import { decodeNanodet, type NanodetLevel } from '../models/decode-nanodet.js';
import { decodeYolo } from '../models/decode-yolo.js';
import { mergeIouOf, type ModelManifest } from '../models/manifest.js';
import { classwiseNms, MERGE_SCORE_FLOOR } from './nms.js';

export type BBox = [x: number, y: number, width: number, height: number];

export interface Detection {
  category: string;
  categoryId: number;
  score: number;
  /** [x, y, width, height] in upright pixels of the original picture. */
  bbox: BBox;
}

/** One output of a model's forward pass for one photo: its values and shape. */
export interface RawOutput {
  data: Float32Array;
  shape: number[];
}

/** What decoding needs to know of a model: the parts of its manifest on its input, outputs and categories. */
export type OutputSpec = Pick<ModelManifest, 'id' | 'format' | 'input' | 'output' | 'labels' | 'labelToCategory' | 'categories' | 'singleInstanceCategories'>;

export interface DecodeOptions {
  /**
   * Keep scores and boxes at full precision. By default they are rounded as detections are reported
   * (score to 4 decimals, box to hundredths of a pixel); training's validation keeps them whole.
   */
  exact?: boolean;
}

/** At most this many detections a photo, as COCO evaluation counts them. */
export const MAX_DETECTIONS = 100;

/** Which raw class feeds which reported category: the key to decoding only what is wanted. */
function classToCategory(spec: OutputSpec): Map<number, { id: number; name: string }> {
  const byName = new Map(spec.categories.map((c) => [c.name, c]));
  const map = new Map<number, { id: number; name: string }>();
  spec.labels.forEach((label, index) => {
    const name = spec.labelToCategory ? spec.labelToCategory[label] : label;
    const category = name === undefined ? undefined : byName.get(name);
    if (category) map.set(index, { id: category.id, name: category.name });
  });
  return map;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * A model's post-processing, built from its manifest: raw outputs to candidate boxes, class-wise
 * suppression per reported category (with the single-instance rule, and weighted where the manifest
 * says `mergeIou`), boxes mapped back to upright source pixels, those under a pixel wide or high
 * dropped. The Detector and training's validation both decode with it, so what validation measures
 * is what the Detector reports.
 */
export class OutputDecoder {
  private readonly classMap: Map<number, { id: number; name: string }>;
  /** Category ids its training data labels once per photo at most (see classwiseNms). */
  private readonly singleInstance: ReadonlySet<number>;
  private readonly wanted: Set<number>;
  private readonly names: Map<number, string>;
  private readonly mergeIou: number | undefined;

  constructor(private readonly spec: OutputSpec) {
    this.classMap = classToCategory(spec);
    this.singleInstance = new Set(spec.singleInstanceCategories ?? []);
    this.wanted = new Set(this.classMap.keys());
    this.names = new Map(spec.categories.map((c) => [c.id, c.name]));
    this.mergeIou = mergeIouOf(spec);
  }

  /** Detections of one photo from its raw outputs; `box` is how the photo was fitted into the input. */
  detections(outputs: RawOutput[], box: Letterbox, minScore: number, options: DecodeOptions = {}): Detection[] {
    // Weighted NMS averages in boxes from MERGE_SCORE_FLOOR up, whatever the minimum score asked for.
    const floor = this.mergeIou === undefined ? minScore : Math.min(minScore, MERGE_SCORE_FLOOR);
    return this.finish(this.candidates(outputs, floor), box, minScore, options);
  }

  /** Raw outputs to candidate boxes in input pixels, of the wanted raw classes, scoring `minScore` at least. */
  candidates(outputs: RawOutput[], minScore: number): Candidate[] {
    const { spec } = this;
    const { width, height } = spec.input;
    const numClasses = spec.labels.length;
    const out = spec.output;
    if (out.decoder === 'yolo') {
      const o = outputs[0];
      return decodeYolo(o.data, o.shape, out.variant, numClasses, minScore, this.wanted, width, height);
    }
    const fpnHead = spec.format === 'fpn-head';
    const levels: NanodetLevel[] = out.strides.map((stride, level) => {
      const cols = Math.ceil(width / stride);
      const rows = Math.ceil(height / stride);
      const cells = cols * rows;
      // A trained head's outputs come in a known order; its class count may equal 4 x bins.
      if (fpnHead) return { stride, cols, rows, scores: outputs[2 * level].data, distances: outputs[2 * level + 1].data };
      const scores = outputs.find((o) => o.shape[1] === cells && o.shape[2] === numClasses);
      const distances = outputs.find((o) => o.shape[1] === cells && o.shape[2] === 4 * out.bins);
      if (!scores || !distances) throw new Error(`model ${spec.id}: no outputs for stride ${stride} ([1, ${cells}, ${numClasses}] and [1, ${cells}, ${4 * out.bins}])`);
      return { stride, cols, rows, scores: scores.data, distances: distances.data };
    });
    return decodeNanodet(levels, numClasses, out.bins, minScore, this.wanted, width, height, out.scoreActivation === 'sigmoid');
  }

  /** Candidates to detections: per-category NMS, then boxes mapped back to upright source pixels. */
  finish(candidates: Candidate[], box: Letterbox, minScore: number, options: DecodeOptions = {}): Detection[] {
    // Suppress per reported category: handbag, backpack and suitcase all become one `bag`.
    const asCategories = candidates.map((c) => ({ ...c, classIndex: this.classMap.get(c.classIndex)!.id }));
    const kept = classwiseNms(asCategories, this.spec.output.iouThreshold, { maxKeep: MAX_DETECTIONS, minScore, singleInstanceClasses: this.singleInstance, mergeIou: this.mergeIou });
    const at = (v: number, digits: number) => (options.exact ? v : round(v, digits));
    return kept
      .map((c) => {
        const [x, y, w, h] = boxToSource(box, c.x1, c.y1, c.x2, c.y2);
        return {
          category: this.names.get(c.classIndex)!,
          categoryId: c.classIndex,
          score: at(c.score, 4),
          bbox: [at(x, 2), at(y, 2), at(w, 2), at(h, 2)] as BBox,
        };
      })
      .filter((d) => d.bbox[2] >= 1 && d.bbox[3] >= 1);
  }
}
