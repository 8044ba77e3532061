// Saving without being asked: every change is appended to the project's journal within a moment
// (one line a flush, fsynced before the window hears "saved"), the journal is folded into an atomic
// snapshot when idle or long, and a save that fails is retried, each time after a longer wait.
// project-store.ts is the file format; this is when and what gets written.
import type { ApiEvent, SaveInfo, SaveLocation } from '../contract/api.js';
import { ApiError } from '../contract/api.js';
import type { WorkspaceCategories } from './categories.js';
import type { ImageRecord, ImageSet, RecordKeeper } from './image-set.js';
import type { KeepChoices } from './keep-choices.js';
import type { WorkspaceModel } from './model.js';
import { projectDir, ProjectStore, type LoadedProject, type SavedCategories, type SavedImage } from './project-store.js';
import type { SavedWork } from './saved-work.js';

const FLUSH_DELAY_MS = 120;
const SAVE_RETRY_MS = 2000;
const SNAPSHOT_EVERY_LINES = 2000;
const SNAPSHOT_IDLE_MS = 4000;

export interface AutosaveOptions {
  images: ImageSet;
  savedWork: SavedWork;
  emit: (event: ApiEvent) => void;
  dataDir: string;
  /** The model in use, named in the project file. */
  model: WorkspaceModel;
  /** The workspace's categories, saved with the project (a journal line whenever they change). */
  categories: WorkspaceCategories;
  /** The photos kept of their near-duplicates, saved with the project (a journal line whenever they change). */
  kept: KeepChoices;
  location: SaveLocation;
}

export class Autosave implements RecordKeeper {
  private store: ProjectStore | null = null;
  private location: SaveLocation;
  private readonly dirty = new Set<string>();
  private readonly forgotten = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private snapshotTimer: NodeJS.Timeout | null = null;
  private saving: Promise<void> = Promise.resolve();
  private savedAt: string | null = null;
  private writing = 0;
  /** Numbers every change; savedThrough is the last one known to be on disk. */
  private changeSeq = 0;
  private savedThrough = 0;
  /** Saves that failed in a row: the retry waits longer each time. */
  private saveFailures = 0;
  /** The photo last shown in the window (its saved name), and whether that is still to be written. */
  private viewedName: string | null = null;
  private viewedChanged = false;
  /** The version of the categories the project holds (see WorkspaceCategories.version). */
  private categoriesWritten = -1;
  /** The version of the near-duplicate choices the project holds (see KeepChoices.version). */
  private keptWritten = -1;
  private closed = false;

  constructor(private readonly options: AutosaveOptions) {
    this.location = options.location;
  }

  private get images(): ImageSet {
    return this.options.images;
  }

  /** The number of the latest change: on disk once a saved event's savedThrough reaches it. */
  get change(): number {
    return this.changeSeq;
  }

  /** The photo last shown in the window, by saved name. */
  get viewed(): string | null {
    return this.viewedName;
  }

  info(): SaveInfo {
    return {
      location: this.location,
      file: this.store?.projectFile ?? null,
      savedAt: this.savedAt,
      // A choice of near-duplicates not yet written counts as one change.
      unsaved: this.dirty.size + this.forgotten.size + this.writing + (this.store && this.options.kept.version !== this.keptWritten ? 1 : 0),
      savedThrough: this.savedThrough,
    };
  }

  /** From now on the work of `home` is saved, where its saved work (if any) was, else where the settings say. */
  openHome(home: string, saved: LoadedProject | undefined): void {
    this.location = saved?.location ?? this.location;
    this.store = this.newStore(home, this.location);
    this.categoriesWritten = -1;
    // The choices just restored are the ones on disk.
    this.keptWritten = this.options.kept.version;
    this.savedAt = saved?.savedAt ?? null;
    this.viewedName = saved?.viewed ?? null;
    this.viewedChanged = false;
  }

  /** Nothing is open any more: nothing to save until a folder is opened again. */
  closeHome(location: SaveLocation): void {
    this.store = null;
    this.savedAt = null;
    this.viewedName = null;
    this.viewedChanged = false;
    this.location = location;
  }

  markDirty(img: ImageRecord): void {
    this.changeSeq++;
    this.dirty.add(img.id);
    this.forgotten.delete(img.name);
    this.scheduleFlush();
  }

  forget(img: ImageRecord): void {
    this.changeSeq++;
    this.dirty.delete(img.id);
    this.forgotten.add(img.name);
    this.scheduleFlush();
  }

  /** A near-duplicate was chosen to keep: work like an edit, written within a moment. */
  keptChanged(): void {
    this.changeSeq++;
    this.scheduleFlush();
  }

  setViewed(name: string): void {
    if (name === this.viewedName) return;
    this.viewedName = name;
    this.viewedChanged = true;
    this.scheduleFlush();
  }

  async saveNow(): Promise<SaveInfo> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    await this.flush();
    await (this.saving = this.saving.then(() => this.snapshot()));
    return this.info();
  }

  /** Moves the saved work to the other location (a snapshot there, then the old files removed). */
  async moveTo(location: SaveLocation): Promise<SaveInfo> {
    if (location === this.location) return this.info();
    const old = this.store;
    const home = this.images.home;
    this.location = location;
    if (old && home) {
      await this.saving;
      this.store = this.newStore(home, location);
      try {
        this.snapshot();
        old.remove();
      } catch (err) {
        throw new ApiError(`could not move the saved work: ${(err as Error).message}`);
      }
    }
    const info = this.info();
    this.options.emit({ type: 'saved', save: info });
    return info;
  }

  /** Writes everything (the app is quitting); nothing is scheduled after. */
  async close(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    this.flushTimer = null;
    await this.flush();
    await (this.saving = this.saving.then(() => this.snapshot()));
    this.closed = true;
  }

  private newStore(home: string, location: SaveLocation): ProjectStore {
    return new ProjectStore(projectDir(home, location, this.options.dataDir), home, () => ({ model: this.options.model.tag, categories: this.savedCategories(), kept: this.options.kept.list() }));
  }

  private savedCategories(): SavedCategories {
    return this.options.categories.list.map((c) => ({ id: c.id, name: c.name, supercategory: c.supercategory }));
  }

  private toSaved(img: ImageRecord): SavedImage | undefined {
    // A labelled photo being labelled again keeps its boxes (and the verified ones stay whatever comes).
    const state = img.state === 'labelling' && img.boxes.length > 0 ? 'done' : img.state;
    if (state !== 'done' && state !== 'failed') return undefined;
    return {
      name: this.images.home ? this.images.nameFor(img.file) : img.name,
      state,
      ...(img.reason ? { reason: img.reason } : {}),
      ...(img.width ? { width: img.width, height: img.height } : {}),
      boxes: img.boxes,
      size: img.size,
      mtimeMs: img.mtimeMs,
      ...(img.state === 'failed' && img.failedAs ? { failedAs: img.failedAs } : {}),
      ...(img.labelledBy ? { labelledBy: img.labelledBy } : {}),
      ...(img.hash ? { hash: img.hash } : {}),
    };
  }

  private scheduleFlush(delay = FLUSH_DELAY_MS): void {
    if (this.flushTimer || this.closed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush();
    }, delay);
  }

  /** Appends every changed image to the journal (one write, one fsync), then says "saved". */
  private flush(): Promise<void> {
    this.saving = this.saving.then(async () => {
      const store = this.store;
      if (!store) return;
      // Every change numbered up to here is in this write. The choices go first: on a failing disk
      // everything waits for the retry, and nothing is reported saved.
      const through = this.changeSeq;
      if (!(await this.writeKept(store))) return;
      const records: SavedImage[] = [];
      for (const id of this.dirty) {
        const img = this.images.get(id);
        const saved = img && this.toSaved(img);
        if (saved) records.push(saved);
      }
      const forgotten = [...this.forgotten];
      this.dirty.clear();
      this.forgotten.clear();
      await this.writeViewed(store);
      if (records.length === 0 && forgotten.length === 0) {
        // Changes with nothing to keep (an image back to pending): as saved as they will be.
        this.savedThrough = Math.max(this.savedThrough, through);
        this.options.emit({ type: 'saved', save: this.info() });
        // Lines that only say where the window was still fill the journal.
        if (store.pendingJournalLines >= SNAPSHOT_EVERY_LINES) this.snapshot();
        return;
      }
      await this.append(store, records, forgotten, through);
      this.options.emit({ type: 'saved', save: this.info() });
      if (store.pendingJournalLines >= SNAPSHOT_EVERY_LINES) this.snapshot();
      else this.scheduleSnapshot();
    });
    return this.saving;
  }

  private async writeViewed(store: ProjectStore): Promise<void> {
    if (!this.viewedChanged || this.viewedName === null) return;
    // Where the window was is not work: it is not counted as unsaved, and a failure to write it
    // is left to the next flush (a failing disk is reported by the work's own writes).
    this.viewedChanged = false;
    await store.appendViewed(this.viewedName).catch(() => {
      this.viewedChanged = true;
    });
  }

  /** The near-duplicate choices, when they changed since written; false when that failed (retried later, nothing reported saved). */
  private async writeKept(store: ProjectStore): Promise<boolean> {
    const version = this.options.kept.version;
    if (version === this.keptWritten) return true;
    this.writing++;
    try {
      await store.appendKept(this.options.kept.list());
      this.keptWritten = version;
      return true;
    } catch (err) {
      this.retryLater(store, err);
      return false;
    } finally {
      this.writing--;
    }
  }

  /** One journal line; on failure the records are put back and the save is tried again later. */
  private async append(store: ProjectStore, records: SavedImage[], forgotten: string[], through: number): Promise<void> {
    this.writing += records.length + forgotten.length;
    try {
      // Categories added since the last write go first: the boxes after them may use them.
      const version = this.options.categories.version;
      if (version !== this.categoriesWritten) {
        await store.appendCategories(this.savedCategories());
        this.categoriesWritten = version;
      }
      await store.append(records, forgotten);
      this.saveFailures = 0;
      this.savedAt = new Date().toISOString();
      this.savedThrough = Math.max(this.savedThrough, through);
    } catch (err) {
      // Put them back, so the next flush tries again and nothing is reported saved that is not.
      const written = new Set(records.map((r) => r.name));
      for (const img of this.images.all()) if (written.has(this.images.nameFor(img.file))) this.dirty.add(img.id);
      for (const f of forgotten) this.forgotten.add(f);
      this.retryLater(store, err);
    } finally {
      this.writing -= records.length + forgotten.length;
    }
  }

  /**
   * A failed save, said to the person and tried again by itself (a full disk may be freed, a removed
   * drive put back), not only at the next edit: after 2 s, then less often, up to every 30 s.
   */
  private retryLater(store: ProjectStore, err: unknown): void {
    this.options.emit({ type: 'error', message: `could not save to ${store.dir}: ${(err as Error).message}` });
    this.saveFailures++;
    this.scheduleFlush(Math.min(SAVE_RETRY_MS * 2 ** (this.saveFailures - 1), 30_000));
  }

  private scheduleSnapshot(): void {
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    if (this.closed) return;
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = null;
      this.saving = this.saving.then(() => this.snapshot());
    }, SNAPSHOT_IDLE_MS);
  }

  /** The whole project in one atomic file; the journal starts again empty. */
  private snapshot(): void {
    // This one writes everything: an idle snapshot still scheduled would only write the same again.
    if (this.snapshotTimer) {
      clearTimeout(this.snapshotTimer);
      this.snapshotTimer = null;
    }
    const store = this.store;
    if (!store) return;
    try {
      // Images of the saved project that are not open now (the person opened part of the folder) are kept.
      const byName = new Map<string, SavedImage>(this.options.savedWork.load(store.home)?.images ?? []);
      for (const img of this.images.all()) {
        const saved = this.toSaved(img);
        const name = this.images.nameFor(img.file);
        if (saved) byName.set(name, saved);
        else byName.delete(name);
      }
      const viewed = this.viewedName ?? undefined;
      const version = this.options.categories.version;
      const keptVersion = this.options.kept.version;
      store.snapshot([...byName.values()], viewed);
      this.categoriesWritten = version;
      this.keptWritten = keptVersion;
      this.options.savedWork.snapshotWritten(store.home, { location: this.location, dir: store.dir }, byName, viewed);
      this.savedAt = new Date().toISOString();
    } catch (err) {
      this.options.emit({ type: 'error', message: `could not save to ${store.dir}: ${(err as Error).message}` });
    }
  }
}
