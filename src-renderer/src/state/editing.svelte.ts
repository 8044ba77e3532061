// The edit session: the selected box, drawing, and every change of the photo's boxes as one
// undoable step. Each step is shown at once and sent through the sync; undo and redo bring back the
// photo a step belongs to before they change it. The photo kept of a group of near-duplicates is a
// step too: undo sends the previous choice back.
import type { Box } from '../api';
import { cloneBoxes, movedBBox } from './boxes';
import { dataset } from './dataset.svelte';
import { filters } from './filters.svelte';
import { sync } from './sync.svelte';

type UndoEntry =
  | { kind: 'boxes'; imageId: string; before: Box[]; after: Box[]; label: string }
  | { kind: 'keep'; groupId: string; before: string; after: string; label: string };

export class EditSession {
  selectedBoxId = $state<string | null>(null);
  /** Drawing mode: a drag on the photo draws a box (otherwise Shift+drag does). */
  drawing = $state(false);
  /** The category last chosen, for new boxes. */
  private chosenCategory = $state<number | null>(null);
  /** Category for new boxes: the last one chosen, else the first of the workspace's. */
  drawCategory = $derived.by(() => {
    const chosen = this.chosenCategory;
    if (chosen !== null && sync.categories.some((c) => c.id === chosen)) return chosen;
    return sync.categories[0]?.id ?? 1;
  });

  undoStack = $state.raw<UndoEntry[]>([]);
  redoStack = $state.raw<UndoEntry[]>([]);
  /** Undo and redo run one after the other: one may first have to bring its photo back on screen. */
  private historyChain: Promise<void> = Promise.resolve();

  /** Boxes on screen not yet verified: what "Accept" would verify. */
  unverifiedShown = $derived.by(() => filters.visibleBoxes.filter((b) => !b.verified).length);

  constructor() {
    sync.listen({
      leaving: () => (this.selectedBoxId = null),
      shown: (detail) => this.forgetMissingSelection(detail.boxes),
    });
  }

  private forgetMissingSelection(boxes: Box[]): void {
    if (this.selectedBoxId && !boxes.some((b) => b.id === this.selectedBoxId)) this.selectedBoxId = null;
  }

  /** Records a finished edit of the photo on screen (boxes already changed there) and sends it. */
  commitEdit(before: Box[], label: string): void {
    const current = sync.current;
    if (!current) return;
    const after = cloneBoxes(current.boxes);
    if (JSON.stringify(before) === JSON.stringify(after)) return;
    this.push({ kind: 'boxes', imageId: current.id, before: cloneBoxes(before), after, label });
    sync.sendBoxes(current.id, after);
  }

  private push(entry: UndoEntry): void {
    this.undoStack = [...this.undoStack.slice(-499), entry];
    this.redoStack = [];
  }

  /** "Keep this one": this photo of its group of near-duplicates is kept, the others left out of exports that say so. */
  async keepNearDuplicate(groupId: string, imageId: string): Promise<void> {
    const previous = await dataset.keep(groupId, imageId);
    if (previous !== null && previous !== imageId) this.push({ kind: 'keep', groupId, before: previous, after: imageId, label: 'Keep this one' });
  }

  /** Changes the photo's boxes as one undoable step (not while the next photo is loading: the keys meant the photo on screen). */
  edit(label: string, change: (boxes: Box[]) => Box[]): void {
    const current = sync.current;
    if (!current || !sync.showsChosenPhoto) return;
    const before = cloneBoxes(current.boxes);
    current.boxes = change(cloneBoxes(current.boxes));
    this.commitEdit(before, label);
  }

  /**
   * Verifies every box on screen (checked category, at the slider) in one undoable edit: the person
   * looked at them and keeps them. Hidden boxes stay as they are, out of a verified-only export.
   */
  acceptShown(): void {
    const shown = new Set(filters.visibleBoxes.filter((b) => !b.verified).map((b) => b.id));
    if (shown.size === 0) return;
    this.edit(shown.size === 1 ? 'Accept box' : `Accept ${shown.size} boxes`, (boxes) => boxes.map((b) => (shown.has(b.id) ? { ...b, verified: true } : b)));
  }

  deleteSelected(): void {
    const id = this.selectedBoxId;
    if (!id) return;
    this.edit('Delete box', (boxes) => boxes.filter((b) => b.id !== id));
    this.selectedBoxId = null;
  }

  /** The category of the selected box, and of the next box drawn. */
  setSelectedCategory(categoryId: number): void {
    const id = this.selectedBoxId;
    this.chosenCategory = categoryId;
    if (!id) return;
    this.edit('Change category', (boxes) => boxes.map((b) => (b.id === id ? { ...b, categoryId, verified: true } : b)));
  }

  /** Moves the selected box by (dx, dy) image pixels, kept inside the photo. */
  moveSelected(dx: number, dy: number): void {
    const id = this.selectedBoxId;
    const current = sync.current;
    if (!id || !current) return;
    const W = current.width ?? 0;
    const H = current.height ?? 0;
    this.edit('Move box', (boxes) =>
      boxes.map((b) => (b.id === id ? { ...b, verified: true, bbox: movedBBox(b.bbox, dx, dy, W, H) } : b)),
    );
  }

  /** Selects the next (1) or previous (-1) box on screen; false when there is none. */
  selectNextShown(delta: 1 | -1): boolean {
    const boxes = filters.visibleBoxes;
    if (boxes.length === 0) return false;
    const i = boxes.findIndex((b) => b.id === this.selectedBoxId);
    this.selectedBoxId = boxes[(i + delta + boxes.length) % boxes.length].id;
    return true;
  }

  undo(): Promise<void> {
    this.historyChain = this.historyChain.then(async () => {
      const entry = this.undoStack.at(-1);
      if (!entry) return;
      this.undoStack = this.undoStack.slice(0, -1);
      this.redoStack = [...this.redoStack, entry];
      if (entry.kind === 'keep') await dataset.keep(entry.groupId, entry.before);
      else await this.applyHistory(entry.imageId, entry.before);
    });
    return this.historyChain;
  }

  redo(): Promise<void> {
    this.historyChain = this.historyChain.then(async () => {
      const entry = this.redoStack.at(-1);
      if (!entry) return;
      this.redoStack = this.redoStack.slice(0, -1);
      this.undoStack = [...this.undoStack, entry];
      if (entry.kind === 'keep') await dataset.keep(entry.groupId, entry.after);
      else await this.applyHistory(entry.imageId, entry.after);
    });
    return this.historyChain;
  }

  private async applyHistory(imageId: string, boxes: Box[]): Promise<void> {
    if (sync.currentId !== imageId) await sync.select(imageId);
    const current = sync.current;
    if (current && current.id === imageId) {
      current.boxes = cloneBoxes(boxes);
      this.forgetMissingSelection(boxes);
    }
    sync.sendBoxes(imageId, cloneBoxes(boxes));
  }
}

export const editing = new EditSession();
