// "Evaluate": the model in use against the person's verified boxes on the reviewed photos it was not
// trained on. It runs on its own detector pool at the low score AP needs (the labeller's pool keeps
// its own), is measured as pycocotools does (core/eval), and counted at the slider's score; its
// precision-recall curves are pictures the window fetches by id (media kind 'plot').
import { randomBytes } from 'node:crypto';
import { ApiError, type ApiEvent, type Evaluation } from '../contract/api.js';
import { DetectorPool, defaultWorkerCount } from '../core/detect/detector-pool.js';
import { AP_MIN_SCORE } from '../core/eval/coco-eval.js';
import { detectPhotos, evaluatePhotos, type EvalPhoto, type PhotoEvaluation } from '../core/eval/photo-eval.js';
import { prPlots } from '../core/eval/pr-plot.js';
import type { TrainingSet } from '../core/models/installed.js';
import type { WorkspaceCategories } from './categories.js';
import type { ImageSet } from './image-set.js';
import type { WorkspaceModel } from './model.js';
import { reviewedPhotos } from './training-data.js';

const PROGRESS_INTERVAL_MS = 200;

export interface EvaluationOptions {
  images: ImageSet;
  categories: WorkspaceCategories;
  model: WorkspaceModel;
  emit: (event: ApiEvent) => void;
  /** The photos the model in use learnt from, where it was trained in the app. */
  trainingSet: () => TrainingSet | undefined;
  workers?: number;
}

export class ModelEvaluation {
  private readonly plots = new Map<string, Buffer>();
  private running = false;

  constructor(private readonly options: EvaluationOptions) {}

  /** A precision-recall picture of the last evaluation. */
  plot(id: string): Buffer | undefined {
    return this.plots.get(id);
  }

  async evaluate(minScore: number): Promise<Evaluation> {
    const { model, images, categories } = this.options;
    const resolved = model.resolved;
    if (!resolved) throw new ApiError(`cannot evaluate: ${model.problem ?? 'no model'}`);
    if (this.running) throw new ApiError('an evaluation is running already');
    const reviewed = reviewedPhotos(images, minScore);
    const trained = this.trainedOn();
    const photos = reviewed.filter((p) => !trained.has(p.name));
    const leftOut = reviewed.length - photos.length;
    if (photos.length === 0) {
      throw new ApiError(
        reviewed.length === 0
          ? 'no photo is reviewed yet: accept the boxes of photos once they are right (A or Enter), then evaluate on them'
          : `all ${reviewed.length} reviewed photos trained ${resolved.manifest.id}, so they cannot tell how good it is: review other photos, then evaluate`,
      );
    }
    this.running = true;
    try {
      const evalPhotos: EvalPhoto[] = photos.map((p, i) => ({ id: i + 1, file: p.file, boxes: p.boxes.map((b) => ({ categoryId: b.categoryId, bbox: b.bbox as [number, number, number, number] })) }));
      const detections = await this.detect(evalPhotos);
      const result = evaluatePhotos(evalPhotos, categories.list, detections, minScore);
      return { model: model.tag, minScore, photos: detections.size, leftOut, ...(await this.figures(result)) };
    } finally {
      this.running = false;
    }
  }

  /** Names of the reviewed photos the model in use learnt from (in this workspace). */
  private trainedOn(): Set<string> {
    const set = this.options.trainingSet();
    return new Set(set && set.workspace === this.options.images.home ? set.train : []);
  }

  private async detect(photos: readonly EvalPhoto[]) {
    const workers = this.options.workers ?? defaultWorkerCount();
    const pool = await DetectorPool.start(this.options.model.resolved!, { workers, minScore: AP_MIN_SCORE });
    let last = 0;
    try {
      const { detections, failed } = await detectPhotos(pool, photos, {
        onProgress: (done, total) => {
          if (done < total && performance.now() - last < PROGRESS_INTERVAL_MS) return;
          last = performance.now();
          this.options.emit({ type: 'evaluation', progress: { done, total } });
        },
      });
      if (failed.length > 0) this.options.emit({ type: 'error', message: `${failed.length} photos could not be evaluated (${failed[0].reason})` });
      return detections;
    } finally {
      await pool.close();
    }
  }

  /** The table's figures: per category with true boxes or boxes of the model, and over all. */
  private async figures(result: PhotoEvaluation): Promise<Pick<Evaluation, 'overall' | 'perCategory' | 'plotId'>> {
    this.plots.clear();
    const plotIds = new Map<number | null, string>();
    for (const plot of await prPlots(result)) {
      const id = `p${randomBytes(8).toString('hex')}`;
      this.plots.set(id, plot.png);
      plotIds.set(plot.categoryId, id);
    }
    const { atScore } = result;
    const perCategory = result.perCategory
      .filter((c) => c.gtCount > 0 || c.detectionCount > 0)
      .map((c) => {
        const counts = atScore.perCategory.get(c.id)!;
        return { categoryId: c.id, name: c.name, boxes: c.gtCount, ap50: c.ap50, ap: c.ap, precision: counts.precision, recall: counts.recall, plotId: plotIds.get(c.id) ?? null };
      });
    const overall = { boxes: atScore.overall.trueBoxes, ap50: result.ap50, ap: result.ap, precision: atScore.overall.precision, recall: atScore.overall.recall };
    return { overall, perCategory, plotId: plotIds.get(null) ?? null };
  }
}
