import { UsageError } from '../base/errors.js';
import { reviewEdits } from './review-edits.js';
import { evaluateBoxes, mean, type CocoEvalResult, type DetBox, type EvaluateOptions, type GtBox, type MatchReport } from './coco-eval.js';
import { parseGroundTruth, parsePredictions, type GroundTruth, type PredictionDocument, type Predictions, type ResultEntry } from './inputs.js';

// COCO files in, an evaluation out: the predictions brought into the ground truth's ids (images by
// file name, categories by name), then coco-eval.ts's evaluation.

/** Path as compared: forward slashes, no leading ./ */
function normaliseName(name: string): string {
  return name.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

const baseName = (name: string) => name.slice(name.lastIndexOf('/') + 1);

/** Finds GT images by file name: the exact relative path, else the bare file name where that is unique. */
function imageLookup(gt: GroundTruth): (fileName: string) => number | undefined {
  const exact = new Map<string, number>();
  const byBase = new Map<string, number | null>();
  for (const img of gt.images) {
    const name = normaliseName(img.file_name);
    exact.set(name, img.id);
    const b = baseName(name);
    byBase.set(b, byBase.has(b) ? null : img.id);
  }
  return (fileName) => {
    const name = normaliseName(fileName);
    return exact.get(name) ?? byBase.get(baseName(name)) ?? undefined;
  };
}

/**
 * Brings predictions into the ground truth's ids: images by file name, categories by name (a bare
 * results array has no category names, so its category_id is taken as the GT's, and image_id likewise).
 */
export function matchPredictions(gt: GroundTruth, pred: Predictions): Matched {
  return Array.isArray(pred) ? matchResults(gt, pred as ResultEntry[]) : matchDocument(gt, pred);
}

/** Predictions in ground-truth ids, with what did not match. */
interface Matched {
  imageIds: number[];
  detections: DetBox[];
  report: MatchReport;
}

const counted = (unknown: Map<string, number>) => [...unknown].map(([name, detections]) => ({ name, detections }));

/** A bare results array: images by file_name where given, else by image_id; categories by id. Every GT image is evaluated. */
function matchResults(gt: GroundTruth, pred: ResultEntry[]): Matched {
  const findImage = imageLookup(gt);
  const gtImageIds = new Set(gt.images.map((i) => i.id));
  const gtCategoryIds = new Set(gt.categories.map((c) => c.id));
  const detections: DetBox[] = [];
  const predImagesNotInGt = new Set<string>();
  const unknownCategories = new Map<string, number>();
  let ignored = 0;
  for (const r of pred) {
    const imageId = r.file_name !== undefined ? findImage(r.file_name) : gtImageIds.has(r.image_id!) ? r.image_id : undefined;
    if (imageId === undefined) {
      predImagesNotInGt.add(r.file_name ?? `image_id ${r.image_id}`);
      ignored++;
      continue;
    }
    if (!gtCategoryIds.has(r.category_id)) {
      const name = `category_id ${r.category_id}`;
      unknownCategories.set(name, (unknownCategories.get(name) ?? 0) + 1);
      ignored++;
      continue;
    }
    detections.push({ imageId, categoryId: r.category_id, bbox: r.bbox, score: r.score });
  }
  const imageIds = [...gtImageIds].sort((a, b) => a - b);
  return {
    imageIds,
    detections,
    report: {
      imageScope: 'all',
      imagesEvaluated: imageIds.length,
      gtImagesNotPredicted: [],
      predImagesNotInGt: [...predImagesNotInGt],
      predImagesDuplicated: [],
      predCategoriesNotInGt: counted(unknownCategories),
      gtCategoriesNotPredicted: [],
      detectionsUsed: detections.length,
      detectionsIgnored: ignored,
    },
  };
}

/** A COCO document: images by file name (each GT image once), categories by name. Only the images it lists are evaluated. */
function matchDocument(gt: GroundTruth, pred: PredictionDocument): Matched {
  const findImage = imageLookup(gt);
  const gtCategoryByName = new Map(gt.categories.map((c) => [c.name, c.id]));
  const detections: DetBox[] = [];
  const predImagesNotInGt = new Set<string>();
  const unknownCategories = new Map<string, number>();
  let ignored = 0;
  const imageMap = new Map<number, number>();
  // a/0001.jpg and b/0001.jpg both match a GT 0001.jpg by bare name: the first wins, not both.
  const taken = new Set<number>();
  const duplicated: string[] = [];
  for (const img of pred.images) {
    const id = findImage(img.file_name);
    if (id === undefined) predImagesNotInGt.add(img.file_name);
    else if (taken.has(id)) duplicated.push(img.file_name);
    else {
      imageMap.set(img.id, id);
      taken.add(id);
    }
  }
  if (imageMap.size === 0) {
    const sample = pred.images.slice(0, 3).map((i) => i.file_name).join(', ');
    throw new UsageError(`none of the ${pred.images.length} predicted images is in the ground truth by file name${sample ? ` (for example ${sample})` : ''}`);
  }
  const categoryMap = new Map<number, number>();
  const predCategoryNames = new Map(pred.categories.map((c) => [c.id, c.name]));
  for (const c of pred.categories) {
    const id = gtCategoryByName.get(c.name);
    if (id !== undefined) categoryMap.set(c.id, id);
  }
  for (const a of pred.annotations) {
    const imageId = imageMap.get(a.image_id);
    if (imageId === undefined) {
      ignored++;
      continue;
    }
    const categoryId = categoryMap.get(a.category_id);
    if (categoryId === undefined) {
      const name = predCategoryNames.get(a.category_id)!;
      unknownCategories.set(name, (unknownCategories.get(name) ?? 0) + 1);
      ignored++;
      continue;
    }
    detections.push({ imageId, categoryId, bbox: a.bbox, score: a.score });
  }
  const evaluated = new Set(imageMap.values());
  const predNames = new Set(pred.categories.map((c) => c.name));
  for (const c of pred.categories) if (!gtCategoryByName.has(c.name) && !unknownCategories.has(c.name)) unknownCategories.set(c.name, 0);
  return {
    imageIds: [...evaluated].sort((a, b) => a - b),
    detections,
    report: {
      imageScope: 'predicted',
      imagesEvaluated: evaluated.size,
      gtImagesNotPredicted: gt.images.filter((i) => !evaluated.has(i.id)).map((i) => i.file_name),
      predImagesNotInGt: [...predImagesNotInGt],
      predImagesDuplicated: duplicated,
      predCategoriesNotInGt: counted(unknownCategories),
      gtCategoriesNotPredicted: gt.categories.filter((c) => !predNames.has(c.name)).map((c) => c.name),
      detectionsUsed: detections.length,
      detectionsIgnored: ignored,
    },
  };
}

/**
 * COCO-style evaluation of predictions against ground truth, matched by file name and category name.
 * Both may come straight from JSON.parse or be CocoDocuments (such as labelFolder's): they are checked
 * here, and a bad one throws a UsageError that names the field.
 */
export function evaluateCoco(groundTruth: unknown, predictions: unknown, options: EvaluateOptions = {}): CocoEvalResult {
  const gt = parseGroundTruth(groundTruth);
  const { imageIds, detections, report } = matchPredictions(gt, parsePredictions(predictions));
  const gts: GtBox[] = gt.annotations.map((a) => ({
    imageId: a.image_id,
    categoryId: a.category_id,
    bbox: a.bbox,
    area: a.area,
    iscrowd: a.iscrowd === 1 || a.iscrowd === true,
  }));
  const result = evaluateBoxes(imageIds, gt.categories, gts, detections, options);
  if (options.reportableCategories) {
    const can = new Set(options.reportableCategories);
    report.gtCategoriesNotPredicted = gt.categories.filter((c) => !can.has(c.name)).map((c) => c.name);
  }
  const missing = new Set(report.gtCategoriesNotPredicted);
  const shared = result.perCategory.filter((c) => !missing.has(c.name) && c.ap !== null).map((c) => c.ap!);
  const reviewScore = options.reviewScore === 'best-f1' ? result.bestF1?.minScore : options.reviewScore;
  const review = reviewScore === undefined ? undefined : reviewEdits(imageIds, gts, detections, reviewScore);
  return { ...result, apSharedCategories: mean(shared), matching: report, ...(review ? { review } : {}) };
}
