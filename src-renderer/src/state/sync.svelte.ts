// The window's copy of the main side: the workspace, the image list, the photo on screen with its
// boxes, batch progress and the save state, kept in step by the main side's events. Edits go out
// through sendBoxes, one after the other, and revisions keep a late answer from taking a newer
// edit off the screen. The stores above it hear of changes through listen().
import { call, onEvent, type ApiEvent, type BatchProgress, type Box, type CategoryInfo, type ImageDetail, type ImageSummary, type SaveInfo, type Workspace } from '../api';
import { messages } from './messages.svelte';

/** What the stores above the sync want to hear of (they may not be imported from here). */
export interface SyncListener {
  /** Photos or their boxes changed on the main side: counts should be asked for again after `delay` ms (now, with `restart`). */
  changed?(delay: number, restart: boolean): void;
  /** Another photo is about to be chosen; `leaving` is the one on screen until then. */
  leaving?(leaving: ImageDetail | null): void;
  /** A photo's detail from the main side is on screen now. */
  shown?(detail: ImageDetail): void;
}

const IDLE_BATCH: BatchProgress = { running: false, done: 0, failed: 0, total: 0, imagesPerSecond: 0, etaSeconds: null, cancelled: false };

export class Sync {
  workspace = $state.raw<Workspace | null>(null);
  images = $state.raw<ImageSummary[]>([]);
  private indexById = new Map<string, number>();
  categories = $state.raw<CategoryInfo[]>([]);
  categoryById = $derived(new Map(this.categories.map((c) => [c.id, c])));

  /** The photo chosen, and the one on screen (the last one while the chosen one loads). */
  currentId = $state<string | null>(null);
  current = $state<ImageDetail | null>(null);

  batch = $state.raw<BatchProgress>(IDLE_BATCH);
  save = $state.raw<SaveInfo | null>(null);
  /** Counts 'saved' events, so a slower getWorkspace answer cannot undo a newer one. */
  private saveEvents = 0;

  private editsInFlight = $state(0);
  /** The same, per photo: a photo's detail fetched while its own edit is on the way is not shown. */
  private readonly editsInFlightById = new Map<string, number>();
  /** The number of the last edit the main side accepted (updateBoxes' `change`). */
  private lastChange = $state(0);
  /** Edits not yet reported on disk: the window says "Saving…" until a saved event covers them all. */
  unsavedEdits = $derived(this.editsInFlight > 0 || (this.save?.unsaved ?? 0) > 0 || (this.save?.savedThrough ?? 0) < this.lastChange);
  /** The newest revision of the photo on screen heard of (events and answers). */
  private lastEventRevision = 0;
  private pendingSummaries = new Map<string, ImageSummary>();
  private summaryFrame = 0;
  private editChain: Promise<unknown> = Promise.resolve();
  private readonly listeners: SyncListener[] = [];

  listen(listener: SyncListener): void {
    this.listeners.push(listener);
  }

  /** Whether the photo on screen is the one chosen (not the last one, while the chosen one loads). */
  get showsChosenPhoto(): boolean {
    return this.current !== null && this.current.id === this.currentId;
  }

  async start(): Promise<void> {
    onEvent((event) => this.onEvent(event));
    await this.reload();
  }

  async reload(): Promise<void> {
    try {
      const saveEventsBefore = this.saveEvents;
      const ws = await call('getWorkspace', {});
      this.workspace = ws;
      this.setImages(ws.images);
      // Kept as they are when unchanged, so what is drawn per category is not drawn again.
      if (JSON.stringify(this.categories) !== JSON.stringify(ws.categories)) this.categories = ws.categories;
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
      for (const l of this.listeners) l.changed?.(0, true);
    } catch (err) {
      messages.report(err);
    }
  }

  private setImages(images: ImageSummary[]): void {
    this.images = images;
    this.indexById = new Map(images.map((img, i) => [img.id, i]));
  }

  /** Where a photo is in the workspace's order; -1 for none. */
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
        for (const l of this.listeners) l.changed?.(300, false);
        break;
      case 'progress':
        this.batch = event.batch;
        break;
      case 'saved':
        this.saveEvents++;
        this.save = event.save;
        break;
      case 'error':
        messages.notify('error', event.message);
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

  /** Chooses the photo to show; its detail follows. */
  async select(id: string): Promise<void> {
    if (this.currentId !== id) {
      for (const l of this.listeners) l.leaving?.(this.current);
      this.currentId = id;
      // Saved with the work; a photo closed meanwhile is simply not remembered.
      void call('setViewedImage', { id }).catch(() => undefined);
    }
    await this.refreshCurrent();
  }

  /** Fetches the chosen photo's detail and shows it, unless an edit of it is on its way or the answer is stale. */
  async refreshCurrent(): Promise<void> {
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
        for (const l of this.listeners) l.shown?.(detail);
      }
    } catch (err) {
      messages.report(err);
    }
  }

  /** Sends a photo's whole new box list (edits go one after the other: the last one sent wins). */
  sendBoxes(imageId: string, boxes: Box[]): void {
    this.editsInFlight++;
    this.editsInFlightById.set(imageId, (this.editsInFlightById.get(imageId) ?? 0) + 1);
    this.editChain = this.editChain
      .then(() => call('updateBoxes', { id: imageId, boxes }))
      .then(
        (detail) => {
          this.lastChange = Math.max(this.lastChange, detail.change);
          if (this.current && this.current.id === imageId) this.current.revision = Math.max(this.current.revision, detail.revision);
        },
        (err) => messages.report(err),
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

  async setSaveLocation(location: SaveInfo['location']): Promise<void> {
    try {
      this.save = await call('setSaveLocation', { location });
    } catch (err) {
      messages.report(err);
    }
  }
}

export const sync = new Sync();
