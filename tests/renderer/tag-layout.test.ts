// Box tags never hide each other: the layout on the cases issue 11 names (boxes sharing a top edge),
// at the viewer's edges, and on many boxes at once. The browser test (tests/app/web-ui.test.ts)
// measures the tags as drawn; this one checks the rules on exact rectangles.
import { describe, expect, it } from 'vitest';
import { layoutTags, type PlacedTag, type Rect } from '../../src-renderer/src/components/viewer/tag-layout';

const TAG = { w: 80, h: 19 };
const viewport = { w: 800, h: 600 };

function overlaps(a: Rect, b: Rect): boolean {
  return Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x) > 0 && Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y) > 0;
}

/** The tags' rectangles; none overlaps another and every one lies inside the viewport. */
function expectReadable(places: (PlacedTag | null)[], sizes = places.map(() => TAG), view = viewport): Rect[] {
  const rects = places.flatMap((p, i) => (p ? [{ x: p.x, y: p.y, ...sizes[i] }] : []));
  for (const [i, r] of rects.entries()) {
    expect(r.x).toBeGreaterThanOrEqual(0);
    expect(r.y).toBeGreaterThanOrEqual(0);
    expect(r.x + r.w).toBeLessThanOrEqual(view.w);
    expect(r.y + r.h).toBeLessThanOrEqual(view.h);
    for (const other of rects.slice(i + 1)) expect(overlaps(r, other), `${JSON.stringify(r)} and ${JSON.stringify(other)}`).toBe(false);
  }
  return rects;
}

describe('box tags', () => {
  it('puts a lone tag above its box, at its left edge', () => {
    expect(layoutTags([{ x: 100, y: 100, w: 200, h: 300 }], [TAG], viewport)).toEqual([{ x: 100, y: 81, place: 'above' }]);
  });

  it('puts the second of two boxes sharing a top edge inside its box (a top inside outerwear)', () => {
    const outerwear = { x: 100, y: 100, w: 300, h: 300 };
    const top = { x: 130, y: 100, w: 200, h: 180 };
    const places = layoutTags([outerwear, top], [TAG, TAG], viewport);
    expect(places).toEqual([
      { x: 100, y: 81, place: 'above' },
      { x: 130, y: 100, place: 'inside' },
    ]);
    expectReadable(places);
  });

  it('keeps the tags of two narrow shoes side by side apart, wider than the shoes', () => {
    const left = { x: 200, y: 500, w: 40, h: 25 };
    const right = { x: 242, y: 500, w: 40, h: 25 };
    const places = layoutTags([right, left], [TAG, TAG], viewport);
    expect(places[1]).toEqual({ x: 200, y: 481, place: 'above' });
    expectReadable(places);
  });

  it('keeps tags inside the viewer: at its top, its right and its bottom edges', () => {
    const boxes = [
      { x: 760, y: 0, w: 30, h: 40 },
      { x: -50, y: -80, w: 200, h: 200 },
      { x: 300, y: 590, w: 100, h: 40 },
    ];
    const places = layoutTags(boxes, boxes.map(() => TAG), viewport);
    expect(places.every((p) => p !== null)).toBe(true);
    expectReadable(places);
  });

  it('shows no tag for a box outside the viewer', () => {
    expect(layoutTags([{ x: 900, y: 100, w: 50, h: 50 }], [TAG], viewport)).toEqual([null]);
  });

  it('finds room for many tags on a crowded photo', () => {
    // A rack of 24 narrow items in two rows, all with their tops on two lines.
    const boxes: Rect[] = [];
    for (let row = 0; row < 2; row++) for (let i = 0; i < 12; i++) boxes.push({ x: 40 + i * 60, y: 100 + row * 220, w: 55, h: 200 });
    expectReadable(layoutTags(boxes, boxes.map(() => TAG), viewport));
  });

  it('leaves out what finds no free place in a crowd, never the selected box', () => {
    // 200 boxes piled on a small viewer (the UI benchmark zooms with 200 boxes on screen).
    let seed = 3;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const boxes = Array.from({ length: 200 }, () => ({ x: random() * 500, y: random() * 400, w: 20 + random() * 200, h: 20 + random() * 200 }));
    const sizes = boxes.map(() => ({ w: 70 + random() * 30, h: 19 }));
    const view = { w: 600, h: 500 };
    const selected = 137;
    // Its time is the UI benchmark's to measure (zooming with 200 boxes), not a test's.
    const places = layoutTags(boxes, sizes, view, selected);
    expectReadable(places, sizes, view);
    expect(places[selected]).not.toBeNull();
    const shown = places.filter((p) => p !== null).length;
    expect(shown).toBeGreaterThan(30);
    expect(shown).toBeLessThan(200);
  });

  it('gives each box the same place wherever the view pans (the order is by position, not by list)', () => {
    const boxes = [
      { x: 100, y: 100, w: 300, h: 300 },
      { x: 130, y: 100, w: 200, h: 180 },
    ];
    const a = layoutTags(boxes, [TAG, TAG], viewport);
    const b = layoutTags([...boxes].reverse(), [TAG, TAG], viewport).reverse();
    expect(b).toEqual(a);
    const moved = layoutTags(boxes.map((r) => ({ ...r, x: r.x + 50, y: r.y + 30 })), [TAG, TAG], viewport);
    expect(moved.map((p) => p!.place)).toEqual(a.map((p) => p!.place));
  });
});
