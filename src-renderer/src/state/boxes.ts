// Small helpers on boxes, shared by the stores and the viewer.
import type { Box, CategoryInfo } from '../api';

/** A deep enough copy: an edit changes a box's fields and its bbox, never more. */
export const cloneBoxes = (boxes: Box[]): Box[] => boxes.map((b) => ({ ...b, bbox: [...b.bbox] as Box['bbox'] }));

/** A box moved by (dx, dy) image pixels, kept inside a W x H photo (a drag, or the arrow keys). */
export function movedBBox(bbox: Box['bbox'], dx: number, dy: number, W: number, H: number): Box['bbox'] {
  const [x, y, w, h] = bbox;
  return [Math.min(W - w, Math.max(0, x + dx)), Math.min(H - h, Math.max(0, y + dy)), w, h];
}

/** "category score%": a box's name, as screen readers read it. */
export function boxLabel(box: Box, categories: Map<number, CategoryInfo>): string {
  return `${categories.get(box.categoryId)?.name ?? `category ${box.categoryId}`} ${Math.round(box.score * 100)}%`;
}

let nextBoxNumber = 1;
/** An id for a box drawn in this window ("u…"), unlike the ids the model's boxes get. */
export const newBoxId = () => `u${Date.now().toString(36)}${(nextBoxNumber++).toString(36)}`;
