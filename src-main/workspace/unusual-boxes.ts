// Boxes that look wrong among the workspace's labelled photos (core/lint): each category's boxes
// learnt from the verified ones (from the model's confident ones where few are verified), boxes unlike
// them ranked by how rarely a right box looks so, and the rules (a second skirt, a sliver, two boxes
// over each other). Boxes at the window's slider are looked at, verified ones always.
import type { ApiOutput, Box, UnusualBox, UnusualKind } from '../contract/api.js';
import { lintPhotos } from '../core/lint/lint.js';
import { STRUCTURAL_SCORE, type LintPhoto, type ProblemKind } from '../core/lint/photos.js';
import type { WorkspaceCategories } from './categories.js';
import { atMinScore } from '../core/formats/labelled-images.js';
import type { ImageRecord, ImageSet } from './image-set.js';
import type { WorkspaceModel } from './model.js';

const KINDS: ReadonlySet<ProblemKind> = new Set<UnusualKind>(['unusual-box', 'second-instance', 'tiny-box', 'stacked-boxes', 'invalid-box']);

/** The categories the model in use labels once per photo, as the workspace's ids (joined by name). */
function singleInstanceIds(model: WorkspaceModel, categories: WorkspaceCategories): number[] {
  const manifest = model.resolved?.manifest;
  if (!manifest) return [];
  const names = new Set((manifest.singleInstanceCategories ?? []).map((id) => manifest.categories.find((c) => c.id === id)?.name.toLowerCase()));
  return categories.list.filter((c) => names.has(c.name.toLowerCase())).map((c) => c.id);
}

export class UnusualBoxes {
  /** The last answer, by what it was computed from (every change of a photo bumps its revision). */
  private cache: { key: string; answer: ApiOutput<'getUnusualBoxes'> } | null = null;

  constructor(
    private readonly images: ImageSet,
    private readonly categories: WorkspaceCategories,
    private readonly model: WorkspaceModel,
  ) {}

  find(minScore: number): ApiOutput<'getUnusualBoxes'> {
    const labelled = [...this.images.all()].filter((img) => img.state === 'done' && img.width && img.height && img.boxes.length > 0);
    const key = `${minScore}:${this.categories.version}:${this.model.tag}:${labelled.map((img) => `${img.id}.${img.revision}`).join(',')}`;
    if (this.cache?.key !== key) this.cache = { key, answer: this.compute(labelled, minScore) };
    return this.cache.answer;
  }

  private compute(labelled: readonly ImageRecord[], minScore: number): ApiOutput<'getUnusualBoxes'> {
    const found: UnusualBox[] = [];
    const photos: LintPhoto[] = [];
    /** Per photo (its index), the boxes by their index in the photo. */
    const boxesOf: { img: ImageRecord; boxes: Box[] }[] = [];
    let checkedBoxes = 0;
    for (const img of labelled) {
      const shown = img.boxes.filter((b) => atMinScore(b, minScore));
      // An empty box has no shape to judge (its logarithms are infinite): said as it is.
      for (const b of shown) {
        if (b.bbox[2] < 1 || b.bbox[3] < 1) found.push({ imageId: img.id, boxId: b.id, kind: 'invalid-box', message: `an empty box (${Math.round(b.bbox[2])} × ${Math.round(b.bbox[3])} pixels)`, score: STRUCTURAL_SCORE });
      }
      const boxes = shown.filter((b) => b.bbox[2] >= 1 && b.bbox[3] >= 1);
      if (boxes.length === 0) continue;
      checkedBoxes += boxes.length;
      boxesOf.push({ img, boxes });
      photos.push({
        id: photos.length,
        name: img.name,
        width: img.width!,
        height: img.height!,
        boxes: boxes.map((b, k) => ({ id: k, categoryId: b.categoryId, bbox: b.bbox, score: b.score, verified: b.verified })),
      });
    }
    const { problems } = lintPhotos(photos, this.categories.list, { singleInstanceCategoryIds: singleInstanceIds(this.model, this.categories) });
    for (const p of problems) {
      if (p.boxId === null || p.photoId === null || !KINDS.has(p.kind)) continue;
      const { img, boxes } = boxesOf[p.photoId];
      found.push({ imageId: img.id, boxId: boxes[p.boxId].id, kind: p.kind as UnusualKind, message: p.message, score: p.score });
    }
    found.sort((a, b) => b.score - a.score);
    return { boxes: found, photos: photos.length, checkedBoxes };
  }
}
