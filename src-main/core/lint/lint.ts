import { BoxShapeModel } from './box-model.js';
import { byScore, type LintBox, type LintCategory, type LintPhoto, type Problem } from './photos.js';
import { ruleProblems, singleInstanceCategoryIds } from './rules.js';

/** Shape doubts are listed from this score: about one right box in a thousand looks as odd. */
export const DEFAULT_MIN_SHAPE_SCORE = 3;

export interface LintOptions {
  /** Shape doubts from this score on are problems (DEFAULT_MIN_SHAPE_SCORE where absent). */
  minShapeScore?: number;
  /** Categories labelled once per photo, e.g. a model manifest's singleInstanceCategories; added to those the photos show. */
  singleInstanceCategoryIds?: readonly number[];
}

export interface RankedBox {
  boxId: number;
  photoId: number | null;
  photo: string;
  /** The highest score of its problems, or of its shape where it has none listed. */
  score: number;
}

export interface LintResult {
  /** Every problem found, most suspicious first. */
  problems: Problem[];
  /** Every box, most suspicious first: a review list longer than the problems. */
  ranking: RankedBox[];
}

/**
 * Boxes that look wrong in photos whose structure is sound (see checkCocoStructure): by the shape of
 * their category's boxes and by the rules. Plain data in, plain data out, so the command line and the
 * workspace both call it.
 */
export function lintPhotos(photos: readonly LintPhoto[], categories: readonly LintCategory[], options: LintOptions = {}): LintResult {
  const minShape = options.minShapeScore ?? DEFAULT_MIN_SHAPE_SCORE;
  const model = new BoxShapeModel(photos, categories);
  const singleInstance = new Set([...singleInstanceCategoryIds(photos), ...(options.singleInstanceCategoryIds ?? [])]);
  const photosWith = new Map<number, number>();
  for (const photo of photos) for (const id of new Set(photo.boxes.map((b) => b.categoryId))) photosWith.set(id, (photosWith.get(id) ?? 0) + 1);
  // By the box itself, not its id: a workspace may number boxes per photo.
  const shapeCache = new Map<LintBox, ReturnType<BoxShapeModel['judge']>>();
  const judge = (box: LintBox, photo: LintPhoto) => {
    if (!shapeCache.has(box)) shapeCache.set(box, model.judge(box, photo));
    return shapeCache.get(box);
  };
  const context = { categories: new Map(categories.map((c) => [c.id, c])), singleInstance, photosWith, shapeScore: (b: LintBox, p: LintPhoto) => judge(b, p)?.score ?? 0 };

  const problems: Problem[] = [];
  const ranking: RankedBox[] = [];
  for (const photo of photos) {
    const found = ruleProblems(photo, context);
    for (const box of photo.boxes) {
      const verdict = judge(box, photo);
      if (verdict && verdict.score >= minShape) {
        found.push({ boxId: box.id, photoId: photo.id ?? null, photo: photo.name, kind: 'unusual-box', message: verdict.message, score: verdict.score });
      }
      const own = found.filter((p) => p.boxId === box.id).map((p) => p.score); // ids are unique within a photo
      ranking.push({ boxId: box.id, photoId: photo.id ?? null, photo: photo.name, score: Math.max(verdict?.score ?? 0, ...own) });
    }
    problems.push(...found);
  }
  ranking.sort((a, b) => b.score - a.score || (a.photoId ?? -1) - (b.photoId ?? -1) || a.boxId - b.boxId);
  return { problems: problems.sort(byScore), ranking };
}
