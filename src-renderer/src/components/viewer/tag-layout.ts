// Where each box's "category N%" tag goes, so that no tag covers another or is cut by the viewer's
// edge, at every zoom. Boxes often share a top edge (a top inside outerwear, a dress over trousers,
// two shoes side by side): the first tag takes the place above its box, the next one goes inside its
// own box's top, or below it, or stacked further. Tags of narrow boxes may be wider than the box.
// Where a crowd of boxes leaves a tag no free place, it is left out rather than drawn over another
// (as a map leaves out names): the box is still drawn and named to screen readers, and zooming in
// makes room for it.
// Plain functions on screen rectangles, so they can be tested without a browser.

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type TagPlace = 'above' | 'inside' | 'below';

export interface PlacedTag {
  x: number;
  y: number;
  place: TagPlace;
}

/** Where a tag of size (tw, th) may go for a box, best first. */
function candidates(box: Rect, tw: number, th: number): PlacedTag[] {
  const { x, y, w, h } = box;
  const right = x + w - tw;
  const list: PlacedTag[] = [
    { x, y: y - th, place: 'above' },
    { x, y, place: 'inside' },
  ];
  if (right > x) list.push({ x: right, y: y - th, place: 'above' }, { x: right, y, place: 'inside' });
  list.push({ x, y: y + h, place: 'below' }, { x, y: y + h - th, place: 'inside' });
  // Further down inside the box, then further above and below it.
  for (let k = 1; k <= 8 && (k + 1) * th <= h; k++) list.push({ x, y: y + k * th, place: 'inside' });
  for (let k = 2; k <= 4; k++) list.push({ x, y: y - k * th, place: 'above' }, { x, y: y + h + (k - 1) * th, place: 'below' });
  return list;
}

const overlapArea = (a: Rect, b: Rect) => Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));

/** Within the viewport: a tag is never cut by its edge (one wider than the viewport starts at its left). */
function clamp(c: PlacedTag, tw: number, th: number, viewport: { w: number; h: number }): PlacedTag {
  return { ...c, x: Math.max(0, Math.min(c.x, viewport.w - tw)), y: Math.max(0, Math.min(c.y, viewport.h - th)) };
}

const visible = (box: Rect, viewport: { w: number; h: number }) => box.x < viewport.w && box.y < viewport.h && box.x + box.w > 0 && box.y + box.h > 0;

/** The tags placed so far, in a grid of cells, so a new one is checked only against its neighbours. */
class PlacedTags {
  private readonly rects: Rect[] = [];
  private readonly cells = new Map<number, number[]>();
  private readonly seen: number[] = [];
  private stamp = 0;
  private static readonly CELL = 64;

  private forCells(r: Rect, visit: (key: number) => void): void {
    const c = PlacedTags.CELL;
    for (let cy = Math.floor(r.y / c); cy <= Math.floor((r.y + r.h) / c); cy++) for (let cx = Math.floor(r.x / c); cx <= Math.floor((r.x + r.w) / c); cx++) visit(cy * 100_003 + cx);
  }

  add(r: Rect): void {
    const i = this.rects.push(r) - 1;
    this.seen.push(0);
    this.forCells(r, (key) => {
      const list = this.cells.get(key);
      if (list) list.push(i);
      else this.cells.set(key, [i]);
    });
  }

  /** Whether `r` overlaps a tag placed so far. */
  overlaps(r: Rect): boolean {
    const stamp = ++this.stamp;
    let found = false;
    this.forCells(r, (key) => {
      if (found) return;
      for (const i of this.cells.get(key) ?? []) {
        if (this.seen[i] === stamp) continue;
        this.seen[i] = stamp;
        if (overlapArea(r, this.rects[i]) > 0) {
          found = true;
          return;
        }
      }
    });
    return found;
  }
}

/**
 * One place per box (in the boxes' order), or null for a box outside the viewport, or one whose tag
 * finds no free place (a crowd of boxes at a low zoom: zooming in makes room). Tags are placed
 * `first` (the selected box) first, then top to bottom and left to right, so they stay put while the
 * view zooms and pans; each takes its first place clear of the tags placed before it.
 */
export function layoutTags(boxes: readonly Rect[], sizes: readonly { w: number; h: number }[], viewport: { w: number; h: number }, first = -1): (PlacedTag | null)[] {
  const order = boxes.map((_, i) => i).sort((a, b) => Number(b === first) - Number(a === first) || boxes[a].y - boxes[b].y || boxes[a].x - boxes[b].x || a - b);
  const placed = new PlacedTags();
  const result: (PlacedTag | null)[] = boxes.map(() => null);
  for (const i of order) {
    if (!visible(boxes[i], viewport)) continue;
    const { w: tw, h: th } = sizes[i];
    for (const raw of candidates(boxes[i], tw, th)) {
      const c = clamp(raw, tw, th, viewport);
      const rect = { x: c.x, y: c.y, w: tw, h: th };
      if (placed.overlaps(rect)) continue;
      result[i] = c;
      placed.add(rect);
      break;
    }
  }
  return result;
}

let context: CanvasRenderingContext2D | null | undefined;
const widths = new Map<string, number>();

/** The width in CSS pixels of `text` in `font` (measured once per text). */
export function textWidth(text: string, font: string): number {
  const key = `${font}|${text}`;
  let width = widths.get(key);
  if (width === undefined) {
    context ??= typeof document !== 'undefined' ? document.createElement('canvas').getContext('2d') : null;
    if (context) {
      context.font = font;
      width = context.measureText(text).width;
    } else {
      width = text.length * 7;
    }
    if (widths.size > 2000) widths.clear();
    widths.set(key, width);
  }
  return width;
}
