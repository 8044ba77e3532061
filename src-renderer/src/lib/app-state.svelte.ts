// The window's state: the workspace as the main side reports it, the image on screen with its
// boxes, filters, the undo history, and messages. Components read it; only these methods change it.
import {
  ApiCallError,
  call,
  onEvent,
  transport,
  uploadFile,
  pathsForFiles,
  type ApiEvent,
  type BatchProgress,
  type Box,
  type CategoryInfo,
  type ExportFormat,
  type ImageDetail,
  type ImageSummary,
  type OpenResult,
  type SaveInfo,
  type Statistics,
  type Workspace,
} from '../api';
import { importTooLarge } from '../../../src-main/contract/import-limit';
import { collectDroppedFiles, isImageName, type UploadItem } from './drop';

export interface Message {
  id: number;
  kind: 'info' | 'error';
  text: string;
  details?: string[];
}

interface UndoEntry {
  imageId: string;
  before: Box[];
  after: Box[];
  label: string;
}

const IDLE_BATCH: BatchProgress = { running: false, done: 0, failed: 0, total: 0, imagesPerSecond: 0, etaSeconds: null, cancelled: false };
const cloneBoxes = (boxes: Box[]): Box[] => boxes.map((b) => ({ ...b, bbox: [...b.bbox] as Box['bbox'] }));

export function boxLabel(box: Box, categories: Map<number, CategoryInfo>): string {
  return `${categories.get(box.categoryId)?.name ?? `category ${box.categoryId}`} ${Math.round(box.score * 100)}%`;
}

let nextMessage = 1;
let nextBoxNumber = 1;
export const newBoxId = () => `u${Date.now().toString(36)}${(nextBoxNumber++).toString(36)}`;

export type ListFilter = 'all' | 'to-review' | 'no-items' | 'failed' | 'pending';

export class AppState {
  workspace = $state.raw<Workspace | null>(null);
  images = $state.raw<ImageSummary[]>([]);
  private indexById = new Map<string, number>();
  categories = $state.raw<CategoryInfo[]>([]);
  categoryById = $derived(new Map(this.categories.map((c) => [c.id, c])));

  currentId = $state<string | null>(null);
  current = $state<ImageDetail | null>(null);
  selectedBoxId = $state<string | null>(null);
  drawing = $state(false);
  /** Category for new boxes: the last one chosen. */
  drawCategory = $state(1);

  checked = $state<Record<number, boolean>>({});
  /** Starts where the model suggests (its manifest's defaultMinScore), until the person moves the slider. */
  minScore = $state(0.35);
  private minScoreChosen = false;
  exportOnlyChecked = $state(true);
  exportUseMinScore = $state(true);
  exportVerifiedOnly = $state(false);

  batch = $state.raw<BatchProgress>(IDLE_BATCH);
  save = $state.raw<SaveInfo | null>(null);
  /** Counts 'saved' events, so a slower getWorkspace answer cannot undo a newer one. */
  private saveEvents = 0;
  stats = $state.raw<Statistics | null>(null);
  uploading = $state.raw<{ done: number; total: number } | null>(null);
  messages = $state<Message[]>([]);

  undoStack = $state.raw<UndoEntry[]>([]);
  redoStack = $state.raw<UndoEntry[]>([]);

  private editsInFlight = $state(0);
  /** The same, per photo: a photo's detail fetched while its own edit is on the way is not shown. */
  private readonly editsInFlightById = new Map<string, number>();
  /** The number of the last edit the main side accepted (updateBoxes' `change`). */
  private lastChange = $state(0);
  /** Edits not yet reported on disk: the window says "Saving…" until a saved event covers them all. */
  unsavedEdits = $derived(this.editsInFlight > 0 || (this.save?.unsaved ?? 0) > 0 || (this.save?.savedThrough ?? 0) < this.lastChange);
  private lastEventRevision = 0;
  private pendingSummaries = new Map<string, ImageSummary>();
  private summaryFrame = 0;
  private statsTimer: ReturnType<typeof setTimeout> | undefined;
  private editChain: Promise<unknown> = Promise.resolve();

  get transport() {
    return transport;
  }

  /** A box the slider shows: scored at it or above, or one a person touched (verified). */
  private atSlider(b: Box): boolean {
    return b.verified || b.score >= this.minScore;
  }

  /** Boxes of the current image that the filters show. */
  visibleBoxes = $derived.by(() => {
    const boxes = this.current?.boxes ?? [];
    // Largest first, so a small box inside a large one is drawn on top and can be picked.
    return boxes
      .filter((b) => this.checked[b.categoryId] !== false && this.atSlider(b))
      .sort((a, b) => b.bbox[2] * b.bbox[3] - a.bbox[2] * a.bbox[3]);
  });

  /** Per category: boxes in this image at the slider. */
  imageCounts = $derived.by(() => {
    const counts = new Map<number, number>();
    for (const b of this.current?.boxes ?? []) if (this.atSlider(b)) counts.set(b.categoryId, (counts.get(b.categoryId) ?? 0) + 1);
    return counts;
  });

  setCounts = $derived(new Map((this.stats?.perCategory ?? []).map((c) => [c.categoryId, c.count])));

  /**
   * Items of a listed photo at the slider (all categories; verified boxes always), so the list agrees
   * with the viewer rather than counting every low-scored box kept for the slider. The open photo is
   * counted here, at once; the others come with the statistics (asked again within 300 ms of a change).
   */
  shownCount(image: ImageSummary): number {
    if (this.current && image.id === this.current.id) return [...this.imageCounts.values()].reduce((n, c) => n + c, 0);
    if (!this.stats) return image.count;
    return this.stats.perImage[image.id] ?? 0;
  }

  /** Boxes of a listed photo at the slider that no person has verified yet (the open photo at once, the others with the statistics). */
  unverifiedCount(image: ImageSummary): number {
    if (this.current && image.id === this.current.id) return this.current.boxes.filter((b) => !b.verified && this.atSlider(b)).length;
    return this.stats?.unverifiedPerImage[image.id] ?? 0;
  }

  /** Which photos the list shows: all, or the ones a review looks for first. */
  listFilter = $state<ListFilter>('all');

  matchesFilter(image: ImageSummary, filter: ListFilter = this.listFilter): boolean {
    switch (filter) {
      case 'all':
        return true;
      case 'no-items':
        return image.state === 'done' && this.shownCount(image) === 0;
      case 'to-review':
        return image.state === 'done' && this.unverifiedCount(image) > 0;
      default:
        return image.state === filter;
    }
  }

  /** The photos in the list, in workspace order; the list's keys and ←/→ walk these. */
  listed = $derived.by(() => (this.listFilter === 'all' ? this.images : this.images.filter((img) => this.matchesFilter(img))));

  async start(): Promise<void> {
    onEvent((event) => this.onEvent(event));
    await this.reload();
  }

  // -----------------------------------------------------------------------------------------
  // Workspace and events

  async reload(): Promise<void> {
    try {
      const saveEventsBefore = this.saveEvents;
      const ws = await call('getWorkspace', {});
      this.workspace = ws;
      if (!this.minScoreChosen) this.minScore = ws.model.defaultMinScore;
      this.setImages(ws.images);
      if (this.categories.length === 0 || this.categories.length !== ws.categories.length) {
        this.categories = ws.categories;
        const checked: Record<number, boolean> = {};
        for (const c of ws.categories) checked[c.id] = this.checked[c.id] ?? true;
        this.checked = checked;
        if (!ws.categories.some((c) => c.id === this.drawCategory) && ws.categories[0]) this.drawCategory = ws.categories[0].id;
      }
      this.batch = ws.batch;
      // A 'saved' event that arrived while this answer was on its way is newer than the answer.
      if (this.saveEvents === saveEventsBefore) this.save = ws.save;
      if (this.currentId && !this.indexById.has(this.currentId)) {
        this.currentId = null;
        this.current = null;
      }
      // A folder opened again starts at the photo shown last time.
      const start = ws.viewedImageId !== null && this.indexById.has(ws.viewedImageId) ? ws.viewedImageId : this.images[0]?.id;
      if (!this.currentId && start) await this.select(start);
      else if (this.currentId) await this.refreshCurrent();
      this.scheduleStats(0, true);
    } catch (err) {
      this.report(err);
    }
  }

  private setImages(images: ImageSummary[]): void {
    this.images = images;
    this.indexById = new Map(images.map((img, i) => [img.id, i]));
  }

  indexOf(id: string | null): number {
    return id ? (this.indexById.get(id) ?? -1) : -1;
  }

  private onEvent(event: ApiEvent): void {
    switch (event.type) {
      case 'workspace':
        void this.reload();
        break;
      case 'image':
        this.pendingSummaries.set(event.image.id, event.image);
        // Many results a second during a batch: the list is updated once per frame.
        if (!this.summaryFrame) this.summaryFrame = requestAnimationFrame(() => this.applySummaries());
        if (event.image.id === this.currentId) {
          this.lastEventRevision = Math.max(this.lastEventRevision, event.revision);
          if (this.editsInFlight === 0 && this.current && event.revision > this.current.revision) void this.refreshCurrent();
        }
        this.scheduleStats(300);
        break;
      case 'progress':
        this.batch = event.batch;
        break;
      case 'saved':
        this.saveEvents++;
        this.save = event.save;
        break;
      case 'error':
        this.notify('error', event.message);
        break;
    }
  }

  private applySummaries(): void {
    this.summaryFrame = 0;
    if (this.pendingSummaries.size === 0) return;
    const next = this.images.slice();
    for (const [id, summary] of this.pendingSummaries) {
      const i = this.indexById.get(id);
      if (i !== undefined) next[i] = summary;
    }
    this.pendingSummaries.clear();
    this.images = next;
  }

  /** Asks for the statistics after `delay`; during a batch at most that often (a pending request is not pushed back). */
  private scheduleStats(delay: number, restart = false): void {
    if (this.statsTimer !== undefined && !restart) return;
    clearTimeout(this.statsTimer);
    this.statsTimer = setTimeout(async () => {
      this.statsTimer = undefined;
      try {
        this.stats = await call('getStatistics', { minScore: this.minScore });
      } catch {
        // the next change asks again
      }
    }, delay);
  }

  setMinScore(value: number): void {
    this.minScoreChosen = true;
    this.minScore = value;
    this.scheduleStats(60, true);
  }

  // -----------------------------------------------------------------------------------------
  // Selection

  async select(id: string): Promise<void> {
    if (this.currentId !== id) {
      this.keepCountsOfCurrent();
      this.selectedBoxId = null;
      this.currentId = id;
      // Saved with the work; a photo closed meanwhile is simply not remembered.
      void call('setViewedImage', { id }).catch(() => undefined);
    }
    await this.refreshCurrent();
  }

  /**
   * The list counts the photo being left from its boxes on screen until the statistics come back, so
   * a photo just accepted does not flash back into "To review".
   */
  private keepCountsOfCurrent(): void {
    const current = this.current;
    if (!this.stats || !current) return;
    // The open photo's own counts, as the list shows them while it is open.
    const shown = this.shownCount(current);
    const unverified = this.unverifiedCount(current);
    const perImage = { ...this.stats.perImage };
    const unverifiedPerImage = { ...this.stats.unverifiedPerImage };
    if (shown > 0) perImage[current.id] = shown;
    else delete perImage[current.id];
    if (unverified > 0) unverifiedPerImage[current.id] = unverified;
    else delete unverifiedPerImage[current.id];
    this.stats = { ...this.stats, perImage, unverifiedPerImage };
  }

  private async refreshCurrent(): Promise<void> {
    const id = this.currentId;
    if (!id) return;
    try {
      const detail = await call('getImage', { id });
      // An edit of another photo still on its way (accept, then on to the next photo) does not hold
      // this one back; one of this photo's own would be undone by the older detail.
      // An answer that left before a later edit of this photo was saved arrives stale: the photo on
      // screen already holds a newer revision, and showing the answer would take that edit back.
      const sameShown = this.current?.id === id;
      const stale = sameShown && detail.revision < this.current!.revision;
      if (this.currentId === id && !this.editsInFlightById.has(id) && !stale) {
        this.lastEventRevision = sameShown ? Math.max(this.lastEventRevision, detail.revision) : detail.revision;
        this.current = detail;
        if (this.selectedBoxId && !detail.boxes.some((b) => b.id === this.selectedBoxId)) this.selectedBoxId = null;
      }
    } catch (err) {
      this.report(err);
    }
  }

  /** The next (delta 1) or previous (-1) photo the list shows; from a photo the filter left out, the nearest in that direction. */
  step(delta: 1 | -1): void {
    const i = this.indexOf(this.currentId);
    if (i < 0) {
      if (this.listed.length > 0) void this.select(this.listed[0].id);
      return;
    }
    for (let k = i + delta; k >= 0 && k < this.images.length; k += delta) {
      if (this.matchesFilter(this.images[k])) {
        void this.select(this.images[k].id);
        return;
      }
    }
    // Said, so a review that reaches the end knows it did (and a key that did nothing is explained).
    this.notify('info', delta > 0 ? 'No photo after this one in the list' : 'No photo before this one in the list');
  }

  // -----------------------------------------------------------------------------------------
  // Editing, undo and redo

  /** Records a finished edit of the current image (boxes already changed on screen) and sends it. */
  commitEdit(before: Box[], label: string): void {
    if (!this.current) return;
    const after = cloneBoxes(this.current.boxes);
    if (JSON.stringify(before) === JSON.stringify(after)) return;
    this.undoStack = [...this.undoStack.slice(-499), { imageId: this.current.id, before: cloneBoxes(before), after, label }];
    this.redoStack = [];
    this.send(this.current.id, after);
  }

  /** Boxes on screen not yet verified: what "Accept" would verify. */
  unverifiedShown = $derived(this.visibleBoxes.filter((b) => !b.verified).length);

  /**
   * Verifies every box on screen (checked category, at the slider) in one undoable edit: the person
   * looked at them and keeps them. Hidden boxes stay as they are, out of a verified-only export.
   */
  acceptShown(): void {
    const shown = new Set(this.visibleBoxes.filter((b) => !b.verified).map((b) => b.id));
    if (shown.size === 0) return;
    this.edit(shown.size === 1 ? 'Accept box' : `Accept ${shown.size} boxes`, (boxes) => boxes.map((b) => (shown.has(b.id) ? { ...b, verified: true } : b)));
  }

  /** Whether the photo on screen is the one chosen (not the last one, while the chosen one loads). */
  get showsChosenPhoto(): boolean {
    return this.current !== null && this.current.id === this.currentId;
  }

  /** Changes the current image's boxes as one undoable step (not while the next photo is loading: the keys meant the photo on screen). */
  edit(label: string, change: (boxes: Box[]) => Box[]): void {
    if (!this.current || !this.showsChosenPhoto) return;
    const before = cloneBoxes(this.current.boxes);
    this.current.boxes = change(cloneBoxes(this.current.boxes));
    this.commitEdit(before, label);
  }

  private send(imageId: string, boxes: Box[]): void {
    this.editsInFlight++;
    this.editsInFlightById.set(imageId, (this.editsInFlightById.get(imageId) ?? 0) + 1);
    this.editChain = this.editChain
      .then(() => call('updateBoxes', { id: imageId, boxes }))
      .then(
        (detail) => {
          this.lastChange = Math.max(this.lastChange, detail.change);
          if (this.current && this.current.id === imageId) this.current.revision = Math.max(this.current.revision, detail.revision);
        },
        (err) => this.report(err),
      )
      .finally(() => {
        this.editsInFlight--;
        const left = (this.editsInFlightById.get(imageId) ?? 1) - 1;
        if (left > 0) this.editsInFlightById.set(imageId, left);
        else this.editsInFlightById.delete(imageId);
        // Newer on the main side, or the photo on screen is not yet the one chosen: fetch it now.
        if (this.editsInFlight === 0 && this.current && (this.current.id !== this.currentId || this.lastEventRevision > this.current.revision)) void this.refreshCurrent();
      });
  }

  /** Undo and redo run one after the other: one may first have to bring its photo back on screen. */
  private historyChain: Promise<void> = Promise.resolve();

  undo(): Promise<void> {
    this.historyChain = this.historyChain.then(async () => {
      const entry = this.undoStack.at(-1);
      if (!entry) return;
      this.undoStack = this.undoStack.slice(0, -1);
      this.redoStack = [...this.redoStack, entry];
      await this.applyHistory(entry.imageId, entry.before);
    });
    return this.historyChain;
  }

  redo(): Promise<void> {
    this.historyChain = this.historyChain.then(async () => {
      const entry = this.redoStack.at(-1);
      if (!entry) return;
      this.redoStack = this.redoStack.slice(0, -1);
      this.undoStack = [...this.undoStack, entry];
      await this.applyHistory(entry.imageId, entry.after);
    });
    return this.historyChain;
  }

  private async applyHistory(imageId: string, boxes: Box[]): Promise<void> {
    if (this.currentId !== imageId) await this.select(imageId);
    if (this.current && this.current.id === imageId) {
      this.current.boxes = cloneBoxes(boxes);
      if (this.selectedBoxId && !boxes.some((b) => b.id === this.selectedBoxId)) this.selectedBoxId = null;
    }
    this.send(imageId, cloneBoxes(boxes));
  }

  deleteSelected(): void {
    const id = this.selectedBoxId;
    if (!id) return;
    this.edit('Delete box', (boxes) => boxes.filter((b) => b.id !== id));
    this.selectedBoxId = null;
  }

  setSelectedCategory(categoryId: number): void {
    const id = this.selectedBoxId;
    this.drawCategory = categoryId;
    if (!id) return;
    this.edit('Change category', (boxes) => boxes.map((b) => (b.id === id ? { ...b, categoryId, verified: true } : b)));
  }

  // -----------------------------------------------------------------------------------------
  // Opening

  private reportOpen(result: OpenResult): void {
    if (result.cancelled) return;
    const parts = [`${result.added} image${result.added === 1 ? '' : 's'} added`];
    if (result.restored) parts.push(`${result.restored} with saved work`);
    if (result.alreadyOpen) parts.push(`${result.alreadyOpen} already open`);
    if (result.replaced) parts.push(`${result.replaced} replaced by a different file of the same name: ${result.replaced === 1 ? 'its boxes were' : 'their boxes were'} cleared and labelled again`);
    // Saved work with photos still to label: a batch that was cancelled or cut short by a crash.
    if (result.restored && result.waiting) parts.push(`${result.waiting} still to label: Label all goes on from there`);
    if (result.problems.length) {
      this.notify('error', `${parts.join(', ')}; ${result.problems.length} could not be opened`, result.problems.map((p) => `${p.file}: ${p.reason}`));
    } else {
      this.notify('info', parts.join(', '));
    }
  }

  async openImagesDialog(): Promise<void> {
    try {
      this.reportOpen(await call('openImagesDialog', {}));
    } catch (err) {
      this.report(err);
    }
  }

  async openFolderDialog(): Promise<void> {
    try {
      this.reportOpen(await call('openFolderDialog', {}));
    } catch (err) {
      this.report(err);
    }
  }

  /** Files from a file input (browser build); `webkitRelativePath` keeps a chosen folder's structure. */
  async openPickedFiles(files: FileList | File[]): Promise<void> {
    const all = Array.from(files).map((file) => ({ file, name: file.webkitRelativePath || file.name }));
    // A chosen folder brings every file in it: only images are sent, hidden files not at all.
    const visible = all.filter((item) => !item.name.split('/').some((part) => part.startsWith('.')));
    const items: UploadItem[] = visible.filter((item) => isImageName(item.name));
    const skipped = visible.filter((item) => !isImageName(item.name)).map((item) => item.name);
    if (items.length === 0) {
      this.notify('error', skipped.length ? `No images among the ${skipped.length} files chosen` : 'Nothing was chosen');
      return;
    }
    await this.upload(items, skipped);
  }

  async openDropped(dataTransfer: DataTransfer): Promise<void> {
    if (transport === 'desktop') {
      const paths = pathsForFiles(Array.from(dataTransfer.files));
      if (paths.length === 0) return;
      try {
        this.reportOpen(await call('openPaths', { paths }));
      } catch (err) {
        this.report(err);
      }
      return;
    }
    const { items, skipped } = await collectDroppedFiles(dataTransfer);
    if (items.length === 0) {
      this.notify('error', skipped.length ? `No images in what was dropped (${skipped.length} other files)` : 'Nothing to open in what was dropped');
      return;
    }
    await this.upload(items, skipped);
  }

  private async upload(items: UploadItem[], skipped: string[] = []): Promise<void> {
    const problems = skipped.map((name) => `${name}: not an image file`);
    const names: string[] = [];
    this.uploading = { done: 0, total: items.length };
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++];
        try {
          await uploadFile(item.name, item.file);
          names.push(item.name);
        } catch (err) {
          problems.push(`${item.name}: ${(err as Error).message}`);
        }
        this.uploading = { done: (this.uploading?.done ?? 0) + 1, total: items.length };
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, items.length) }, worker));
    this.uploading = null;
    if (names.length === 0) {
      this.notify('error', 'Nothing could be opened', problems);
      return;
    }
    names.sort();
    try {
      const result = await call('openUploads', { names });
      this.reportOpen({ ...result, problems: [...result.problems, ...problems.map((p) => ({ file: p.split(': ')[0], reason: p.slice(p.indexOf(': ') + 2) }))] });
    } catch (err) {
      this.report(err);
    }
  }

  // -----------------------------------------------------------------------------------------
  // Batch, export, import, save

  async labelAll(): Promise<void> {
    try {
      const { queued } = await call('labelAll', {});
      if (queued === 0) this.notify('info', 'Every image is labelled already');
    } catch (err) {
      this.report(err);
    }
  }

  async cancel(): Promise<void> {
    try {
      const { cancelled } = await call('cancelLabelling', {});
      this.notify('info', `Labelling stopped; ${cancelled} image${cancelled === 1 ? '' : 's'} left pending`);
    } catch (err) {
      this.report(err);
    }
  }

  async exportAs(format: ExportFormat): Promise<{ downloadId: string | null; fileName: string | null } | undefined> {
    const categoryIds = this.exportOnlyChecked ? this.categories.filter((c) => this.checked[c.id] !== false).map((c) => c.id) : undefined;
    try {
      const result = await call('exportAnnotations', {
        format,
        filter: { categoryIds, minScore: this.exportUseMinScore ? this.minScore : 0, verifiedOnly: this.exportVerifiedOnly },
      });
      if (result.cancelled) return undefined;
      const what = { coco: 'COCO', yolo: 'YOLO', voc: 'Pascal VOC' }[format];
      const where = result.target && transport === 'desktop' ? ` to ${result.target}` : result.downloadId ? '' : ` to ${result.target}`;
      const leftOut = result.leftOut > 0 ? `; ${result.leftOut} labelled ${result.leftOut === 1 ? 'photo was' : 'photos were'} left out, not yet reviewed (Show: To review)` : '';
      this.notify('info', `${what}: ${result.annotations} boxes in ${result.images} images exported${where}${leftOut}`);
      return { downloadId: result.downloadId, fileName: result.fileName };
    } catch (err) {
      this.report(err);
      return undefined;
    }
  }

  async importCoco(file?: File): Promise<void> {
    // Refused here, before a huge file is read and sent, with the service's own words.
    const tooLarge = file ? importTooLarge(file.size) : undefined;
    if (tooLarge) {
      this.notify('error', `could not import ${file!.name}: ${tooLarge}`);
      return;
    }
    try {
      const text = file ? await file.text() : undefined;
      const result = await call('importCoco', text === undefined ? {} : { text, fileName: file?.name });
      if (result.cancelled) return;
      const text1 = `Imported ${result.annotations} boxes for ${result.matched} images${result.unmatched ? `; ${result.unmatched} images of the file are not open` : ''}`;
      this.notify(result.problems.length ? 'error' : 'info', text1, result.problems);
      await this.refreshCurrent();
    } catch (err) {
      this.report(err);
    }
  }

  async setSaveLocation(location: SaveInfo['location']): Promise<void> {
    try {
      this.save = await call('setSaveLocation', { location });
    } catch (err) {
      this.report(err);
    }
  }

  // -----------------------------------------------------------------------------------------
  // Messages

  notify(kind: Message['kind'], text: string, details?: string[]): void {
    // The same message again (a key held at the end of the list) is shown once.
    if (this.messages.some((m) => m.kind === kind && m.text === text && !details?.length)) return;
    const message: Message = { id: nextMessage++, kind, text, details: details?.length ? details : undefined };
    this.messages = [...this.messages.slice(-3), message];
    if (kind === 'info') setTimeout(() => this.dismiss(message.id), 5000);
  }

  dismiss(id: number): void {
    this.messages = this.messages.filter((m) => m.id !== id);
  }

  report(err: unknown): void {
    this.notify('error', err instanceof ApiCallError || err instanceof Error ? err.message : String(err));
  }
}

export const app = new AppState();
