// The plain data lint works on: the workspace's photos and a COCO file's images both map to it.

export type Box4 = [x: number, y: number, width: number, height: number];

export interface LintBox {
  id: number;
  categoryId: number;
  /** [x, y, width, height] in pixels of the upright photo. */
  bbox: Box4;
  /** The model's score, for boxes a model drew. */
  score?: number;
  /** Whether a person confirmed it. A box without a score and without this flag is a person's: verified. */
  verified?: boolean;
}

export interface LintPhoto {
  /** The photo's id where it has one (a COCO image id). */
  id?: number;
  name: string;
  width: number;
  height: number;
  boxes: LintBox[];
}

export interface LintCategory {
  id: number;
  name: string;
}

export type ProblemKind =
  | 'not-an-object'
  | 'invalid-image'
  | 'invalid-category'
  | 'invalid-annotation'
  | 'duplicate-id'
  | 'duplicate-image'
  | 'missing-image'
  | 'missing-category'
  | 'invalid-box'
  | 'negative-box'
  | 'outside-image'
  | 'tiny-box'
  | 'stacked-boxes'
  | 'second-instance'
  | 'unusual-box'
  | 'model-disagrees';

export interface Problem {
  /** The box concerned; null for a fault of a photo or a category. */
  boxId: number | null;
  /** The photo's id (COCO image id) where known. */
  photoId: number | null;
  photo: string | null;
  kind: ProblemKind;
  /** What looks wrong, in words. */
  message: string;
  /** How suspicious: structural faults STRUCTURAL_SCORE, the rest -log10 of how rarely a right box looks like this. */
  score: number;
}

/** Faults that make a file wrong whatever its boxes show come before every doubt about a box. */
export const STRUCTURAL_SCORE = 100;

/** Whether a box counts as confirmed by a person (as the workspace's import decides). */
export function isVerified(box: LintBox): boolean {
  return box.verified ?? box.score === undefined;
}

/** Problems in the order to look at them: most suspicious first, then by photo and box. */
export function byScore(a: Problem, b: Problem): number {
  return b.score - a.score || (a.photoId ?? -1) - (b.photoId ?? -1) || (a.boxId ?? -1) - (b.boxId ?? -1) || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0);
}
