// The pointer on the photo: pan the picture, move or resize the selected box, draw a new one.
// A gesture changes the box on screen as the pointer moves, and becomes one undoable edit when the
// pointer is let go.
import type { BBox, Box } from '../../api';
import { cloneBoxes, movedBBox, newBoxId } from '../../state/boxes';
import { editing } from '../../state/editing.svelte';
import { sync } from '../../state/sync.svelte';
import { view } from '../../state/view.svelte';

export type Handle = 'nw' | 'n' | 'ne' | 'e' | 'se' | 's' | 'sw' | 'w';
export const HANDLES: readonly Handle[] = ['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w'];

type Gesture =
  | { kind: 'pan'; startX: number; startY: number; panX: number; panY: number }
  | { kind: 'move' | 'resize'; handle?: Handle; boxId: string; startIx: number; startIy: number; bbox: BBox; before: Box[]; moved: boolean }
  | { kind: 'draw'; boxId: string; startIx: number; startIy: number; before: Box[] };

const clamp = (v: number, max: number) => Math.min(max, Math.max(0, v));

/** The box a drag from (startIx, startIy) to (ix, iy) draws, inside the photo. */
function drawnBox(startIx: number, startIy: number, ix: number, iy: number, W: number, H: number): BBox {
  const x1 = clamp(Math.min(startIx, ix), W);
  const y1 = clamp(Math.min(startIy, iy), H);
  const x2 = clamp(Math.max(startIx, ix), W);
  const y2 = clamp(Math.max(startIy, iy), H);
  return [x1, y1, x2 - x1, y2 - y1];
}

/** A box moved by (dx, dy), or resized by its handle, inside the photo (a handle dragged past the other side flips it). */
function draggedBox(bbox: BBox, dx: number, dy: number, handle: Handle | undefined, W: number, H: number): BBox {
  let [x, y, w, h] = bbox;
  if (!handle) return movedBBox(bbox, dx, dy, W, H);
  let x1 = x, y1 = y, x2 = x + w, y2 = y + h;
  if (handle.includes('w')) x1 = clamp(x1 + dx, W);
  if (handle.includes('e')) x2 = clamp(x2 + dx, W);
  if (handle.includes('n')) y1 = clamp(y1 + dy, H);
  if (handle.includes('s')) y2 = clamp(y2 + dy, H);
  [x, w] = x1 <= x2 ? [x1, x2 - x1] : [x2, x1 - x2];
  [y, h] = y1 <= y2 ? [y1, y2 - y1] : [y2, y1 - y2];
  return [x, y, w, h];
}

export class PointerGestures {
  private gesture: Gesture | null = null;

  /** `viewport`: the element the photo is drawn in (pointer positions are taken relative to it). */
  constructor(private readonly viewport: () => HTMLElement | undefined) {}

  private toImage(e: PointerEvent): [number, number] {
    const rect = this.viewport()!.getBoundingClientRect();
    return view.toImage(e.clientX - rect.left, e.clientY - rect.top);
  }

  private pan(e: PointerEvent): Gesture {
    return { kind: 'pan', startX: e.clientX, startY: e.clientY, panX: view.panX, panY: view.panY };
  }

  down = (e: PointerEvent): void => {
    const image = sync.current;
    const viewport = this.viewport();
    if (!image || !viewport || e.button > 1) return;
    viewport.focus({ preventScroll: true });
    const target = e.target as HTMLElement;
    const handle = target.dataset?.handle as Handle | undefined;
    const boxId = handle ? editing.selectedBoxId : target.closest('[data-box-id]')?.getAttribute('data-box-id');
    const [ix, iy] = this.toImage(e);
    viewport.setPointerCapture(e.pointerId);
    if (e.button === 1 || view.panKeyHeld) {
      this.gesture = this.pan(e);
    } else if (boxId && !editing.drawing) {
      const box = image.boxes.find((b) => b.id === boxId);
      if (!box) return;
      editing.selectedBoxId = boxId;
      this.gesture = { kind: handle ? 'resize' : 'move', handle, boxId, startIx: ix, startIy: iy, bbox: [...box.bbox] as BBox, before: cloneBoxes(image.boxes), moved: false };
    } else if (editing.drawing || e.shiftKey) {
      if (ix < 0 || iy < 0 || ix > view.W || iy > view.H) return;
      const before = cloneBoxes(image.boxes);
      const id = newBoxId();
      image.boxes.push({ id, categoryId: editing.drawCategory, score: 1, bbox: [ix, iy, 0, 0], verified: true });
      editing.selectedBoxId = id;
      this.gesture = { kind: 'draw', boxId: id, startIx: ix, startIy: iy, before };
    } else {
      editing.selectedBoxId = null;
      this.gesture = this.pan(e);
    }
  };

  move = (e: PointerEvent): void => {
    const g = this.gesture;
    const image = sync.current;
    if (!g || !image) return;
    if (g.kind === 'pan') {
      view.panX = g.panX + e.clientX - g.startX;
      view.panY = g.panY + e.clientY - g.startY;
      return;
    }
    const box = image.boxes.find((b) => b.id === g.boxId);
    if (!box) return;
    const [ix, iy] = this.toImage(e);
    if (g.kind === 'draw') {
      box.bbox = drawnBox(g.startIx, g.startIy, ix, iy, view.W, view.H);
      return;
    }
    const dx = ix - g.startIx;
    const dy = iy - g.startIy;
    // A click on a box selects it; only a drag of a few pixels moves it.
    if (!g.moved && Math.hypot(dx * view.scale, dy * view.scale) < 3) return;
    g.moved = true;
    box.bbox = draggedBox(g.bbox, dx, dy, g.kind === 'resize' ? g.handle : undefined, view.W, view.H);
  };

  up = (): void => {
    const g = this.gesture;
    this.gesture = null;
    const image = sync.current;
    if (!g || g.kind === 'pan' || !image) return;
    const box = image.boxes.find((b) => b.id === g.boxId);
    if (g.kind === 'draw') {
      // A click without a drag is not a box.
      if (!box || box.bbox[2] * view.scale < 4 || box.bbox[3] * view.scale < 4) {
        image.boxes = image.boxes.filter((b) => b.id !== g.boxId);
        editing.selectedBoxId = null;
        return;
      }
      editing.commitEdit(g.before, 'Draw box');
      return;
    }
    if (!g.moved || !box) return;
    box.verified = true;
    editing.commitEdit(g.before, g.kind === 'move' ? 'Move box' : 'Resize box');
  };
}
