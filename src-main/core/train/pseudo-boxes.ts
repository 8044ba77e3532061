import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../base/atomic-write.js';
import { DetectorPool } from '../detect/detector-pool.js';
import { labelFiles } from '../label/label-folder.js';
import { modelTag } from '../models/manifest.js';
import type { ResolvedModel } from '../models/registry.js';
import { PSEUDO_BOX_RULES, type ModelBox } from './tags.js';

/** The model's boxes on the tagged photos, kept in the model's folder so a resumed training does not label again. */
const PSEUDO_BOXES_FILE = 'pseudo-boxes.json';

interface SavedBoxes {
  model: string;
  boxes: [file: string, boxes: ModelBox[]][];
}

export interface PseudoLabelOptions {
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, etaSeconds: number | null) => void;
  log: (line: string) => void;
}

/**
 * Runs `model` on the tagged photos (down to the lowest score a kept box may have) and returns its
 * boxes by file. Saved in `out`; a later run with the same model and photos reads them back.
 */
export async function modelBoxesOnPhotos(model: ResolvedModel, files: readonly string[], out: string, opts: PseudoLabelOptions): Promise<Map<string, ModelBox[]>> {
  const tag = modelTag(model.manifest);
  const savedFile = path.join(out, PSEUDO_BOXES_FILE);
  const saved = readSaved(savedFile);
  if (saved?.model === tag && files.every((f) => saved.boxes.has(f))) return saved.boxes;
  opts.log(`finding the boxes of ${tag} on ${files.length} tagged photos`);
  const boxes = new Map<string, ModelBox[]>();
  const pool = await DetectorPool.start(model, { workers: opts.workers, minScore: Math.min(PSEUDO_BOX_RULES.singleMinScore, PSEUDO_BOX_RULES.multiMinScore) });
  try {
    await labelFiles(pool, files, {
      signal: opts.signal,
      onResult: (file, result) => boxes.set(file, result.detections.map((d) => ({ category: d.category, bbox: d.bbox, score: d.score }))),
      // A tagged photo the model cannot read is left without boxes; the features reader names it.
      onFailure: (file) => boxes.set(file, []),
      onProgress: (batch) => opts.onProgress?.(batch.done + batch.failed, batch.total, batch.etaSeconds),
    });
  } finally {
    await pool.close();
  }
  if (!opts.signal?.aborted) {
    fs.mkdirSync(out, { recursive: true });
    writeFileAtomic(savedFile, JSON.stringify({ model: tag, boxes: [...boxes] } satisfies SavedBoxes));
  }
  return boxes;
}

function readSaved(file: string): { model: string; boxes: Map<string, ModelBox[]> } | undefined {
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as SavedBoxes;
    return { model: saved.model, boxes: new Map(saved.boxes) };
  } catch {
    return undefined;
  }
}
