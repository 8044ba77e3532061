// The workspace: the images a person opened, their boxes and states, labelling with the detector
// pool, edits, autosave, import and export. Plain Node (no Electron): the desktop shell and the
// browser build's HTTP server both put the contract in front of it (handleApiCall).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  ApiError,
  type ApiEvent,
  type ApiOutput,
  type ApiParsedInput,
  type ApiService,
  type BatchProgress,
  type Box,
  type CategoryInfo,
  type DialogHost,
  type ImageDetail,
  type ImageState,
  type ImageSummary,
  type MediaBytes,
  type MediaKind,
  type OpenResult,
  type Problem,
  type SaveInfo,
  type SaveLocation,
} from '../contract/api.js';
import { writeFileAtomic } from '../core/base/atomic-write.js';
import type { Category } from '../core/formats/categories.js';
import { DetectorPool } from '../core/detect/detector-pool.js';
import type { ImageDetections } from '../core/detect/detector.js';
import { DEFAULT_MIN_SCORE, defaultMinScoreOf } from '../core/models/manifest.js';
import { FileProblem } from '../core/base/errors.js';
import { isImagePath, readImageInfo } from '../core/images/decode.js';
import { resolveModel, type ResolvedModel } from '../core/models/registry.js';
import { findImages, toPosix } from '../core/images/walk.js';
import { categoryColour } from './colours.js';
import { importTooLarge } from '../contract/import-limit.js';
import { atMinScore, buildCocoExport, buildVocExport, buildYoloExport, exportedImages, importCocoText, isReviewed, YOLO_LIST_FILES, type ExportImage } from './export.js';
import { MediaCache } from './media.js';
import { loadProject, projectDir, ProjectStore, type LoadedProject, type SavedImage } from './project-store.js';

export interface WorkspaceOptions {
  /** The app's data folder: settings, thumbnail cache, projects saved "in the app's data folder", exports. */
  dataDir: string;
  /** Receives every event for the window (progress, image changes, saves, errors). */
  emit: (event: ApiEvent) => void;
  /** The detector model; the registry's default when absent. */
  model?: ResolvedModel;
  /** Detector worker threads; one per core when absent. */
  workers?: number;
  /** Boxes below this score are not kept at all; the confidence slider works above it. */
  detectMinScore?: number;
  /** The desktop shell's native dialogs. */
  dialogs?: DialogHost;
  /**
   * Whether a path the renderer sent to openPaths may be read (the shell checks it came from a drop
   * or a dialog). Without it, openPaths refuses every path: the browser build uploads instead.
   */
  allowPath?: (absolutePath: string) => boolean;
  /** The browser build's upload folder: openUploads reads only here. */
  uploadsDir?: string;
  /** Newly opened images up to this many are labelled at once; larger sets wait for "Label all". */
  autoLabelLimit?: number;
}

interface ImageRecord {
  id: string;
  /** Real absolute path: read only by the service, never sent to the renderer. */
  file: string;
  name: string;
  state: ImageState;
  reason?: string;
  width?: number;
  height?: number;
  boxes: Box[];
  revision: number;
  size?: number;
  mtimeMs?: number;
  /** For a failed image: its file as it was when it failed (see fileSignature), so Label all retries it once it changes. */
  failedAs?: string;
}

/** Size and times of a file (ctime catches a change of permissions), or why it cannot be looked at. */
function fileSignature(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch (err) {
    return `unreadable:${(err as NodeJS.ErrnoException).code ?? ''}`;
  }
}

const DEFAULT_DETECT_MIN_SCORE = 0.15;
const FLUSH_DELAY_MS = 120;
const SAVE_RETRY_MS = 2000;
const SNAPSHOT_EVERY_LINES = 2000;
const SNAPSHOT_IDLE_MS = 4000;
const PROGRESS_INTERVAL_MS = 200;

export class WorkspaceService implements ApiService {
  private readonly images = new Map<string, ImageRecord>();
  private readonly byFile = new Map<string, ImageRecord>();
  private nextImage = 1;
  private nextBox = 1;
  private readonly boxPrefix = `b${randomBytes(3).toString('hex')}`;
  private home: string | null = null;
  private readonly model: ResolvedModel | undefined;
  private readonly modelProblem: string | undefined;
  private readonly categories: readonly Category[];
  private readonly categoryInfo: CategoryInfo[];
  private readonly mediaCache: MediaCache;
  private readonly exports = new Map<string, { file: string; fileName: string; mimeType: string }>();
  private saveLocation: SaveLocation;

  // Saving
  private store: ProjectStore | null = null;
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
  private viewed: string | null = null;
  private viewedChanged = false;

  // Labelling
  private pool: DetectorPool | null = null;
  private poolStarting: Promise<DetectorPool> | null = null;
  private readonly queue: string[] = [];
  /** What is in the queue (ids removed from it early are skipped when their turn comes). */
  private readonly queued = new Set<string>();
  private inFlight = 0;
  private batch: BatchProgress = { running: false, done: 0, failed: 0, total: 0, imagesPerSecond: 0, etaSeconds: null, cancelled: false };
  private batchStarted = 0;
  private lastProgress = 0;
  private progressTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: WorkspaceOptions) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    let model = options.model;
    let problem: string | undefined;
    if (!model) {
      try {
        model = resolveModel(undefined);
      } catch (err) {
        problem = (err as Error).message;
      }
    }
    this.model = model;
    this.modelProblem = problem;
    this.categories = model?.manifest.categories ?? [];
    this.categoryInfo = this.categories.map((c, i) => ({ id: c.id, name: c.name, supercategory: c.supercategory, colour: categoryColour(c, i) }));
    this.mediaCache = new MediaCache(path.join(options.dataDir, 'thumbnails'));
    this.saveLocation = this.readSettings().saveLocation ?? 'beside-images';
  }

  // -------------------------------------------------------------------------------------------
  // Settings

  private get settingsFile(): string {
    return path.join(this.options.dataDir, 'settings.json');
  }

  private readSettings(): { saveLocation?: SaveLocation } {
    try {
      const raw = JSON.parse(fs.readFileSync(this.settingsFile, 'utf8'));
      return { saveLocation: raw.saveLocation === 'app-data' || raw.saveLocation === 'beside-images' ? raw.saveLocation : undefined };
    } catch {
      return {};
    }
  }

  // -------------------------------------------------------------------------------------------
  // Reading the workspace

  private summary(img: ImageRecord): ImageSummary {
    return {
      id: img.id,
      name: img.name,
      state: img.state,
      ...(img.reason ? { reason: img.reason } : {}),
      count: img.boxes.length,
      ...(img.width ? { width: img.width, height: img.height } : {}),
    };
  }

  private detail(img: ImageRecord): ImageDetail {
    return { ...this.summary(img), boxes: img.boxes.map((b) => ({ ...b, bbox: [...b.bbox] as Box['bbox'] })), revision: img.revision };
  }

  private saveInfo(): SaveInfo {
    return {
      location: this.saveLocation,
      file: this.store?.projectFile ?? null,
      savedAt: this.savedAt,
      unsaved: this.dirty.size + this.forgotten.size + this.writing,
      savedThrough: this.savedThrough,
    };
  }

  async getWorkspace(): Promise<ApiOutput<'getWorkspace'>> {
    const viewedFile = this.home && this.viewed !== null ? path.resolve(this.home, this.viewed) : null;
    return {
      home: this.home,
      images: [...this.images.values()].map((img) => this.summary(img)),
      viewedImageId: (viewedFile && this.byFile.get(viewedFile)?.id) ?? null,
      categories: this.categoryInfo,
      model: this.model
        ? { id: this.model.manifest.id, name: this.model.manifest.name, version: this.model.manifest.version, defaultMinScore: defaultMinScoreOf(this.model.manifest) }
        : { id: 'none', name: this.modelProblem ?? 'no model', version: '', defaultMinScore: DEFAULT_MIN_SCORE },
      save: this.saveInfo(),
      batch: { ...this.batch },
      features: { dialogs: Boolean(this.options.dialogs), uploads: Boolean(this.options.uploadsDir) },
    };
  }

  private image(id: string): ImageRecord {
    const img = this.images.get(id);
    if (!img) throw new ApiError(`no image ${id} in this workspace (it may have been closed)`);
    return img;
  }

  async setViewedImage(input: ApiParsedInput<'setViewedImage'>): Promise<ApiOutput<'setViewedImage'>> {
    const name = this.nameFor(this.image(input.id).file);
    if (name !== this.viewed) {
      this.viewed = name;
      this.viewedChanged = true;
      this.scheduleFlush();
    }
    return { viewedImageId: input.id };
  }

  async getImage(input: ApiParsedInput<'getImage'>): Promise<ImageDetail> {
    const img = this.image(input.id);
    if (!img.width && img.state !== 'failed') {
      // The viewer needs the upright size to place boxes, before the detector has seen the picture.
      try {
        const info = await readImageInfo(img.file);
        img.width = info.width;
        img.height = info.height;
      } catch (err) {
        if (img.state === 'pending') {
          img.state = 'failed';
          img.reason = err instanceof FileProblem ? err.reason : (err as Error).message;
          img.failedAs = fileSignature(img.file);
          img.revision++;
          this.markDirty(img);
          this.emitImage(img);
        }
      }
    }
    return this.detail(img);
  }

  async media(kind: MediaKind, id: string): Promise<MediaBytes | undefined> {
    if (kind === 'export') {
      const entry = this.exports.get(id);
      if (!entry) return undefined;
      return { bytes: await fs.promises.readFile(entry.file), mimeType: entry.mimeType, fileName: entry.fileName };
    }
    const img = this.images.get(id);
    if (!img) return undefined;
    if (kind === 'thumbnail') return { bytes: await this.mediaCache.thumbnail(img.file), mimeType: 'image/jpeg' };
    return this.mediaCache.display(img.file);
  }

  // -------------------------------------------------------------------------------------------
  // Opening

  async openPaths(input: ApiParsedInput<'openPaths'>): Promise<OpenResult> {
    const allow = this.options.allowPath;
    const refused = input.paths.filter((p) => !path.isAbsolute(p) || !allow || !allow(path.resolve(p)));
    if (refused.length > 0) {
      if (!allow) throw new ApiError('opening files by path is not available here: drop the files on the window or use the Open buttons');
      throw new ApiError(`not opened: ${refused.slice(0, 3).join(', ')}${refused.length > 3 ? ` and ${refused.length - 3} more` : ''} (only files and folders chosen in a dialog or dropped on the window can be opened)`);
    }
    return this.open(input.paths.map((p) => path.resolve(p)));
  }

  async openImagesDialog(): Promise<OpenResult> {
    const dialogs = this.requireDialogs();
    const files = await dialogs.chooseImages();
    if (files.length === 0) return { added: 0, alreadyOpen: 0, replaced: 0, restored: 0, waiting: this.waitingCount(), problems: [], cancelled: true };
    return this.open(files);
  }

  async openFolderDialog(): Promise<OpenResult> {
    const dialogs = this.requireDialogs();
    const folder = await dialogs.chooseFolder();
    if (!folder) return { added: 0, alreadyOpen: 0, replaced: 0, restored: 0, waiting: this.waitingCount(), problems: [], cancelled: true };
    return this.open([folder]);
  }

  private requireDialogs(): DialogHost {
    if (!this.options.dialogs) throw new ApiError('dialogs are only in the desktop app; the browser build uses its file pickers');
    return this.options.dialogs;
  }

  async openUploads(input: ApiParsedInput<'openUploads'>): Promise<OpenResult> {
    const root = this.options.uploadsDir;
    if (!root) throw new ApiError('uploads are only used by the browser build');
    const realRoot = fs.realpathSync(root);
    const files: string[] = [];
    const problems: Problem[] = [];
    for (const name of input.names) {
      const file = path.join(realRoot, ...name.split('/'));
      let real: string;
      try {
        real = fs.realpathSync(file);
      } catch {
        problems.push({ file: name, reason: 'was not uploaded' });
        continue;
      }
      if (path.relative(realRoot, real).startsWith('..')) {
        problems.push({ file: name, reason: 'is outside the upload folder' });
        continue;
      }
      files.push(real);
    }
    // Uploads all live in one folder, which is the workspace's home: its saved work comes back.
    if (!this.home) this.setHome(realRoot);
    const result = await this.open(files, { refreshChanged: true });
    return { ...result, problems: [...problems, ...result.problems] };
  }

  /** Opens a folder the app itself chose (the browser build's upload folder at start). */
  async openTrustedFolder(dir: string): Promise<OpenResult> {
    return this.open([dir]);
  }

  private setHome(dir: string): void {
    const saved = this.loadSaved(dir, true);
    this.home = dir;
    const location = saved?.location ?? this.saveLocation;
    this.saveLocation = location;
    this.store = new ProjectStore(projectDir(dir, location, this.options.dataDir), dir, this.modelTag());
    this.savedAt = saved?.savedAt ?? null;
    this.viewed = saved?.viewed ?? null;
    this.viewedChanged = false;
  }

  private modelTag(): string {
    return this.model ? `${this.model.manifest.id}@${this.model.manifest.version}` : 'none';
  }

  private readonly savedByFolder = new Map<string, LoadedProject | undefined>();

  /**
   * The saved work of a folder. For the home folder (`home`), whose project this workspace will write,
   * saved work that cannot be read stops the opening: nothing is opened, so nothing overwrites it.
   * For another folder it is only a source of earlier boxes, so the problem is reported and the rest goes on.
   */
  private loadSaved(folder: string, home = false): LoadedProject | undefined {
    if (!this.savedByFolder.has(folder)) {
      let loaded: LoadedProject | undefined;
      try {
        loaded = loadProject(folder, this.options.dataDir);
        if (loaded?.damaged) {
          this.options.emit({ type: 'error', message: `the saved project in ${folder} was damaged (${loaded.damaged.reason}); it was kept as ${loaded.damaged.keptAs}, and the work saved since its last snapshot was restored` });
        }
      } catch (err) {
        if (home) throw new Error(`${(err as Error).message}: nothing was opened, so it is left as it is; give it back read and write permission and open the folder again`);
        this.options.emit({ type: 'error', message: `${(err as Error).message}; its earlier boxes are not restored` });
      }
      this.savedByFolder.set(folder, loaded);
    }
    return this.savedByFolder.get(folder);
  }

  /** A name relative to the home folder with "/", or the absolute path for images outside it. */
  private nameFor(file: string): string {
    if (this.home) {
      const rel = path.relative(this.home, file);
      if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return toPosix(rel);
    }
    return toPosix(file);
  }

  /** Saved work for a file: from the home project, or from the project of the folder it was opened from. */
  private savedFor(file: string, openedFolder: string | undefined): SavedImage | undefined {
    const candidates: [string, string][] = [];
    if (this.home) candidates.push([this.home, file]);
    if (openedFolder && openedFolder !== this.home) candidates.push([openedFolder, file]);
    for (const [folder, f] of candidates) {
      const rel = path.relative(folder, f);
      if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) continue;
      const saved = this.loadSaved(folder)?.images.get(toPosix(rel));
      if (saved) return saved;
    }
    return undefined;
  }

  private async open(paths: string[], options: { refreshChanged?: boolean } = {}): Promise<OpenResult> {
    const problems: Problem[] = [];
    const found: { file: string; folder?: string }[] = [];
    for (const p of paths) {
      let st: fs.Stats;
      try {
        st = await fs.promises.stat(p);
      } catch (err) {
        problems.push({ file: p, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message });
        continue;
      }
      if (st.isDirectory()) {
        const real = await fs.promises.realpath(p);
        if (!this.home) this.setHome(real);
        try {
          const walk = await findImages(real);
          problems.push(...walk.problems);
          for (const f of walk.files) found.push({ file: f, folder: real });
        } catch (err) {
          problems.push({ file: p, reason: (err as Error).message });
        }
      } else if (st.isFile()) {
        if (!isImagePath(p)) {
          problems.push({ file: path.basename(p), reason: 'not an image file (JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC)' });
          continue;
        }
        const real = await fs.promises.realpath(p);
        if (!this.home) this.setHome(path.dirname(real));
        found.push({ file: real });
      }
    }
    let added = 0;
    let alreadyOpen = 0;
    let replaced = 0;
    let restored = 0;
    const fresh: string[] = [];
    for (const { file, folder } of found) {
      let real = file;
      try {
        real = fs.realpathSync(file);
      } catch {
        // reading it will report the problem
      }
      let st: fs.Stats | undefined;
      try {
        st = fs.statSync(real);
      } catch {
        st = undefined;
      }
      const existing = this.byFile.get(real);
      if (existing) {
        if (options.refreshChanged && st && (st.size !== existing.size || st.mtimeMs !== existing.mtimeMs)) {
          // The same name uploaded again with other content: its old boxes do not belong to it.
          existing.size = st.size;
          existing.mtimeMs = st.mtimeMs;
          existing.boxes = [];
          existing.width = existing.height = undefined;
          existing.reason = undefined;
          existing.state = 'pending';
          existing.revision++;
          this.forget(existing);
          fresh.push(existing.id);
          replaced++;
          this.emitImage(existing);
        } else {
          alreadyOpen++;
        }
        continue;
      }
      const img: ImageRecord = {
        id: `i${this.nextImage++}`,
        file: real,
        name: this.nameFor(real),
        state: 'pending',
        boxes: [],
        revision: 0,
        size: st?.size,
        mtimeMs: st?.mtimeMs,
      };
      const saved = this.savedFor(real, folder);
      if (saved && st && (saved.size === undefined || saved.size === st.size) && (saved.mtimeMs === undefined || Math.abs(saved.mtimeMs - st.mtimeMs) < 1)) {
        img.state = saved.state;
        img.reason = saved.reason;
        img.width = saved.width;
        img.height = saved.height;
        img.boxes = saved.boxes;
        // A project saved before failures were marked: what the file is now counts as what failed.
        if (img.state === 'failed') img.failedAs = saved.failedAs ?? fileSignature(real);
        restored++;
        // Work restored from another folder's project joins this one's.
        if (folder && folder !== this.home) this.markDirty(img);
      }
      this.images.set(img.id, img);
      this.byFile.set(real, img);
      added++;
      if (img.state === 'pending') fresh.push(img.id);
    }
    if (added > 0 || fresh.length > 0) this.options.emit({ type: 'workspace' });
    // A few dropped photos are labelled at once; a big folder waits for "Label all".
    if (fresh.length > 0 && fresh.length <= (this.options.autoLabelLimit ?? 24)) this.enqueue(fresh, true);
    return { added, alreadyOpen, replaced, restored, waiting: this.waitingCount(), problems: problems.map((p) => ({ file: this.home ? this.nameFor(p.file) : p.file, reason: p.reason })), cancelled: false };
  }

  private waitingCount(): number {
    let n = 0;
    for (const img of this.images.values()) if (img.state === 'pending' && !this.queued.has(img.id)) n++;
    return n;
  }

  async closeWorkspace(): Promise<{ closed: boolean }> {
    await this.cancelLabelling();
    await this.saveNow();
    this.images.clear();
    this.byFile.clear();
    this.savedByFolder.clear();
    this.home = null;
    this.store = null;
    this.savedAt = null;
    this.viewed = null;
    this.viewedChanged = false;
    this.saveLocation = this.readSettings().saveLocation ?? 'beside-images';
    this.batch = { running: false, done: 0, failed: 0, total: 0, imagesPerSecond: 0, etaSeconds: null, cancelled: false };
    this.options.emit({ type: 'workspace' });
    return { closed: true };
  }

  // -------------------------------------------------------------------------------------------
  // Labelling

  async labelImages(input: ApiParsedInput<'labelImages'>): Promise<{ queued: number }> {
    for (const id of input.ids) this.image(id);
    return { queued: this.enqueue(input.ids, true) };
  }

  /** Labels every pending image, and every failed one whose file changed since it failed. */
  async labelAll(): Promise<{ queued: number }> {
    const retry = (img: ImageRecord) => img.state === 'failed' && fileSignature(img.file) !== img.failedAs;
    const pending = [...this.images.values()].filter((img) => (img.state === 'pending' || retry(img)) && !this.queued.has(img.id)).map((img) => img.id);
    if (this.modelProblem) throw new ApiError(`cannot label: ${this.modelProblem}`);
    return { queued: this.enqueue(pending, false) };
  }

  async cancelLabelling(): Promise<{ cancelled: number }> {
    const cancelled = this.queue.splice(0).filter((id) => this.queued.has(id));
    this.queued.clear();
    for (const id of cancelled) {
      const img = this.images.get(id);
      if (img && img.state === 'labelling') {
        img.state = 'pending';
        this.emitImage(img);
      }
    }
    if (cancelled.length > 0 || this.batch.running) {
      this.batch.cancelled = true;
      this.batch.total -= cancelled.length;
      if (this.inFlight === 0) this.endBatch();
      else this.emitProgress(true);
    }
    return { cancelled: cancelled.length };
  }

  private enqueue(ids: string[], first: boolean): number {
    const fresh = ids.filter((id) => !this.queued.has(id) && (this.queued.add(id), true));
    if (fresh.length === 0) return 0;
    if (!this.batch.running) {
      this.batch = { running: true, done: 0, failed: 0, total: 0, imagesPerSecond: 0, etaSeconds: null, cancelled: false };
      this.batchStarted = performance.now();
    }
    this.batch.total += fresh.length;
    if (first) this.queue.unshift(...fresh);
    else this.queue.push(...fresh);
    for (const id of fresh) {
      const img = this.images.get(id);
      if (img) {
        img.state = 'labelling';
        img.reason = undefined;
        this.emitImage(img);
      }
    }
    this.emitProgress(true);
    void this.pump();
    return fresh.length;
  }

  /** Starts the detector workers now, so the first photo dropped is labelled without waiting for the model to load. */
  warmUp(): void {
    if (this.model) this.getPool().catch((err: Error) => this.options.emit({ type: 'error', message: `the detector could not start: ${err.message}` }));
  }

  private getPool(): Promise<DetectorPool> {
    if (this.pool) return Promise.resolve(this.pool);
    if (!this.poolStarting) {
      if (!this.model) return Promise.reject(new Error(this.modelProblem ?? 'no model'));
      this.poolStarting = DetectorPool.start(this.model, { workers: this.options.workers, minScore: this.options.detectMinScore ?? DEFAULT_DETECT_MIN_SCORE }).then(
        (pool) => {
          this.pool = pool;
          return pool;
        },
        (err) => {
          this.poolStarting = null;
          throw err;
        },
      );
    }
    return this.poolStarting;
  }

  private async pump(): Promise<void> {
    let pool: DetectorPool;
    try {
      pool = await this.getPool();
    } catch (err) {
      const message = `the detector could not start: ${(err as Error).message}`;
      const waiting = this.queue.splice(0).filter((id) => this.queued.has(id));
      this.queued.clear();
      for (const id of waiting) {
        const img = this.images.get(id);
        if (img) this.finish(img, undefined, message);
      }
      this.options.emit({ type: 'error', message });
      this.endBatch();
      return;
    }
    // Two photos per worker in flight: the pool decodes the next while the model runs.
    while (!this.closed && this.queue.length > 0 && this.inFlight < pool.workerCount * 2) {
      const id = this.queue.shift()!;
      if (!this.queued.delete(id)) continue;
      const img = this.images.get(id);
      if (!img) continue;
      this.inFlight++;
      const file = img.file;
      pool.detect(file).then(
        (result) => this.finish(img, result),
        (err: Error) => this.finish(img, undefined, err instanceof FileProblem ? err.reason : err.message),
      ).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) void this.pump();
        else if (this.inFlight === 0) this.endBatch();
      });
    }
    // Only ids taken out of the queue early were left: nothing is running.
    if (this.queue.length === 0 && this.inFlight === 0) this.endBatch();
  }

  private finish(img: ImageRecord, result: ImageDetections | undefined, reason?: string): void {
    if (this.closed || this.images.get(img.id) !== img) return;
    if (result) {
      // A person's boxes stay; the model's earlier boxes are replaced by this run's.
      const kept = img.boxes.filter((b) => b.verified);
      const fresh = result.detections.map((d) => ({ id: `${this.boxPrefix}_${this.nextBox++}`, categoryId: d.categoryId, score: Math.round(d.score * 10000) / 10000, bbox: d.bbox.map((v) => Math.round(v * 100) / 100) as Box['bbox'], verified: false }));
      img.boxes = [...kept, ...fresh];
      img.width = result.width;
      img.height = result.height;
      img.state = 'done';
      img.reason = undefined;
      this.batch.done++;
    } else {
      img.state = 'failed';
      img.reason = reason ?? 'could not be labelled';
      img.failedAs = fileSignature(img.file);
      this.batch.failed++;
    }
    img.revision++;
    this.markDirty(img);
    this.emitImage(img);
    this.emitProgress(false);
  }

  private endBatch(): void {
    if (!this.batch.running) return;
    this.batch.running = false;
    this.emitProgress(true);
  }

  private emitProgress(now: boolean): void {
    const seconds = (performance.now() - this.batchStarted) / 1000;
    const finished = this.batch.done + this.batch.failed;
    this.batch.imagesPerSecond = finished > 0 ? finished / Math.max(seconds, 0.5) : 0;
    const left = this.batch.total - finished;
    this.batch.etaSeconds = this.batch.imagesPerSecond > 0 ? left / this.batch.imagesPerSecond : null;
    const send = () => {
      this.progressTimer = null;
      this.lastProgress = performance.now();
      this.options.emit({ type: 'progress', batch: { ...this.batch } });
    };
    if (now || performance.now() - this.lastProgress >= PROGRESS_INTERVAL_MS) {
      if (this.progressTimer) clearTimeout(this.progressTimer);
      send();
    } else if (!this.progressTimer) {
      this.progressTimer = setTimeout(send, PROGRESS_INTERVAL_MS);
    }
  }

  private emitImage(img: ImageRecord): void {
    this.options.emit({ type: 'image', image: this.summary(img), revision: img.revision });
  }

  // -------------------------------------------------------------------------------------------
  // Editing

  async updateBoxes(input: ApiParsedInput<'updateBoxes'>): Promise<ApiOutput<'updateBoxes'>> {
    const img = this.image(input.id);
    const ids = new Set<string>();
    for (const box of input.boxes) {
      if (ids.has(box.id)) throw new ApiError(`box id ${box.id} is used twice`);
      ids.add(box.id);
      if (!this.categories.some((c) => c.id === box.categoryId)) throw new ApiError(`category ${box.categoryId} is not one of this model's categories`);
    }
    img.boxes = input.boxes.map((b) => ({ ...b, bbox: b.bbox.map((v) => Math.round(v * 100) / 100) as Box['bbox'] }));
    // Boxes drawn or corrected on a picture that was not labelled make it a labelled picture.
    if (img.state !== 'done' && input.boxes.length > 0 && img.state !== 'labelling') {
      img.state = 'done';
      img.reason = undefined;
    }
    img.revision++;
    this.markDirty(img);
    this.emitImage(img);
    return { ...this.detail(img), change: this.changeSeq };
  }

  // -------------------------------------------------------------------------------------------
  // Saving

  private toSaved(img: ImageRecord): SavedImage | undefined {
    if (img.state !== 'done' && img.state !== 'failed') return undefined;
    return {
      name: this.home ? this.nameFor(img.file) : img.name,
      state: img.state,
      ...(img.reason ? { reason: img.reason } : {}),
      ...(img.width ? { width: img.width, height: img.height } : {}),
      boxes: img.boxes,
      size: img.size,
      mtimeMs: img.mtimeMs,
      ...(img.state === 'failed' && img.failedAs ? { failedAs: img.failedAs } : {}),
    };
  }

  private markDirty(img: ImageRecord): void {
    this.changeSeq++;
    this.dirty.add(img.id);
    this.forgotten.delete(img.name);
    this.scheduleFlush();
  }

  private forget(img: ImageRecord): void {
    this.changeSeq++;
    this.dirty.delete(img.id);
    this.forgotten.add(img.name);
    this.scheduleFlush();
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
      // Every change numbered up to here is in this write.
      const through = this.changeSeq;
      const records: SavedImage[] = [];
      for (const id of this.dirty) {
        const img = this.images.get(id);
        const saved = img && this.toSaved(img);
        if (saved) records.push(saved);
      }
      const forgotten = [...this.forgotten];
      this.dirty.clear();
      this.forgotten.clear();
      if (this.viewedChanged && this.viewed !== null) {
        // Where the window was is not work: it is not counted as unsaved, and a failure to write it
        // is left to the next flush (a failing disk is reported by the work's own writes).
        this.viewedChanged = false;
        await store.appendViewed(this.viewed).catch(() => {
          this.viewedChanged = true;
        });
      }
      if (records.length === 0 && forgotten.length === 0) {
        // Changes with nothing to keep (an image back to pending): as saved as they will be.
        this.savedThrough = Math.max(this.savedThrough, through);
        this.options.emit({ type: 'saved', save: this.saveInfo() });
        // Lines that only say where the window was still fill the journal.
        if (store.pendingJournalLines >= SNAPSHOT_EVERY_LINES) this.snapshot();
        return;
      }
      this.writing += records.length + forgotten.length;
      try {
        await store.append(records, forgotten);
        this.saveFailures = 0;
        this.savedAt = new Date().toISOString();
        this.savedThrough = Math.max(this.savedThrough, through);
      } catch (err) {
        // Put them back, so the next flush tries again and nothing is reported saved that is not.
        const written = new Set(records.map((r) => r.name));
        for (const img of this.images.values()) if (written.has(this.nameFor(img.file))) this.dirty.add(img.id);
        for (const f of forgotten) this.forgotten.add(f);
        this.options.emit({ type: 'error', message: `could not save to ${store.dir}: ${(err as Error).message}` });
        // Try again by itself (a full disk may be freed, a removed drive put back), not only at the
        // next edit: after 2 s, then less often, up to every 30 s.
        this.saveFailures++;
        this.scheduleFlush(Math.min(SAVE_RETRY_MS * 2 ** (this.saveFailures - 1), 30_000));
      } finally {
        this.writing -= records.length + forgotten.length;
      }
      this.options.emit({ type: 'saved', save: this.saveInfo() });
      if (store.pendingJournalLines >= SNAPSHOT_EVERY_LINES) this.snapshot();
      else this.scheduleSnapshot();
    });
    return this.saving;
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
      const byName = new Map<string, SavedImage>(this.loadSaved(store.home)?.images ?? []);
      for (const img of this.images.values()) {
        const saved = this.toSaved(img);
        const name = this.nameFor(img.file);
        if (saved) byName.set(name, saved);
        else byName.delete(name);
      }
      const viewed = this.viewed ?? undefined;
      store.snapshot([...byName.values()], viewed);
      // What was just written is now the saved state of the home folder.
      const loaded = this.savedByFolder.get(store.home);
      if (loaded) Object.assign(loaded, { images: byName, viewed });
      else this.savedByFolder.set(store.home, { location: this.saveLocation, dir: store.dir, images: byName, savedAt: new Date().toISOString(), skippedLines: 0, viewed });
      this.savedAt = new Date().toISOString();
    } catch (err) {
      this.options.emit({ type: 'error', message: `could not save to ${store.dir}: ${(err as Error).message}` });
    }
  }

  async saveNow(): Promise<SaveInfo> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    await this.flush();
    await (this.saving = this.saving.then(() => this.snapshot()));
    return this.saveInfo();
  }

  async setSaveLocation(input: ApiParsedInput<'setSaveLocation'>): Promise<SaveInfo> {
    writeFileAtomic(this.settingsFile, JSON.stringify({ saveLocation: input.location }, null, 2));
    if (input.location === this.saveLocation) return this.saveInfo();
    const old = this.store;
    this.saveLocation = input.location;
    if (old && this.home) {
      await this.saving;
      this.store = new ProjectStore(projectDir(this.home, input.location, this.options.dataDir), this.home, this.modelTag());
      try {
        this.snapshot();
        old.remove();
      } catch (err) {
        throw new ApiError(`could not move the saved work: ${(err as Error).message}`);
      }
    }
    const info = this.saveInfo();
    this.options.emit({ type: 'saved', save: info });
    return info;
  }

  // -------------------------------------------------------------------------------------------
  // Statistics, export, import

  async getStatistics(input: ApiParsedInput<'getStatistics'>): Promise<ApiOutput<'getStatistics'>> {
    const counts = new Map(this.categories.map((c) => [c.id, 0]));
    let labelled = 0;
    let failed = 0;
    let reviewed = 0;
    const reviewFilter = { minScore: input.minScore, verifiedOnly: true };
    const perImage: Record<string, number> = {};
    const unverifiedPerImage: Record<string, number> = {};
    for (const img of this.images.values()) {
      if (img.state === 'done') labelled++;
      if (img.state === 'failed') failed++;
      if (img.state === 'done' && isReviewed(img, reviewFilter)) reviewed++;
      let shown = 0;
      let unverified = 0;
      for (const b of img.boxes) {
        if (!atMinScore(b, input.minScore)) continue;
        counts.set(b.categoryId, (counts.get(b.categoryId) ?? 0) + 1);
        shown++;
        if (!b.verified) unverified++;
      }
      if (shown > 0) perImage[img.id] = shown;
      if (unverified > 0) unverifiedPerImage[img.id] = unverified;
    }
    return { images: this.images.size, labelled, failed, reviewed, perCategory: [...counts].map(([categoryId, count]) => ({ categoryId, count })), perImage, unverifiedPerImage };
  }

  private exportImages(): ExportImage[] {
    return [...this.images.values()]
      .filter((img) => img.state === 'done' && img.width && img.height)
      .map((img) => ({ name: img.name, width: img.width!, height: img.height!, boxes: img.boxes }));
  }

  async exportAnnotations(input: ApiParsedInput<'exportAnnotations'>): Promise<ApiOutput<'exportAnnotations'>> {
    const labelled = this.exportImages();
    if (labelled.length === 0) throw new ApiError('nothing to export yet: label some images first');
    const images = exportedImages(labelled, input.filter);
    if (images.length === 0) {
      throw new ApiError('no photo is reviewed yet, so an export of verified boxes only would be empty: accept the boxes of a photo (A) once they are right, or export without "Verified boxes only"');
    }
    const leftOut = labelled.length - images.length;
    const base = this.home ? path.basename(this.home) : 'images';
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    const suggested = input.format === 'coco' ? `${base}.coco.json` : `${base}-${input.format}`;
    let target: string | null;
    if (this.options.dialogs) {
      target = await this.options.dialogs.chooseExportTarget(input.format, suggested);
      if (!target) return { cancelled: true, format: input.format, target: null, images: 0, annotations: 0, leftOut: 0, downloadId: null, fileName: null };
    } else {
      // Unique: two exports within a second must not share a file (each keeps its own download).
      target = path.join(this.options.dataDir, 'exports', `${stamp}-${randomBytes(3).toString('hex')}-${suggested}`);
    }
    const counted = { images: images.length, annotations: 0, leftOut };
    if (input.format === 'coco') {
      const doc = buildCocoExport(images, this.categories, input.filter, {
        description: `Fashion Detect labels for ${base}`,
        version: '1.0',
        model: this.modelTag(),
        date_created: new Date().toISOString(),
      });
      counted.annotations = doc.annotations.length;
      fs.mkdirSync(path.dirname(target), { recursive: true });
      writeFileAtomic(target, JSON.stringify(doc, null, 1));
    } else {
      const files = input.format === 'yolo' ? buildYoloExport(images, this.categories, input.filter) : buildVocExport(images, this.categories, input.filter);
      counted.annotations = input.format === 'yolo' ? files.reduce((n, f) => n + (YOLO_LIST_FILES.includes(f.name) ? 0 : f.content.split('\n').filter(Boolean).length), 0) : files.reduce((n, f) => n + (f.content.match(/<object>/g)?.length ?? 0), 0);
      this.writeExportFolder(target, files);
    }
    const downloadId = input.format === 'coco' ? `x${randomBytes(8).toString('hex')}` : null;
    if (downloadId) this.exports.set(downloadId, { file: target, fileName: suggested, mimeType: 'application/json' });
    return { cancelled: false, format: input.format, target, ...counted, downloadId, fileName: downloadId ? suggested : null };
  }

  private writeExportFolder(dir: string, files: { name: string; content: string }[]): void {
    const root = path.resolve(dir);
    for (const f of files) {
      const file = path.resolve(root, ...f.name.split('/'));
      if (path.relative(root, file).startsWith('..')) continue;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      writeFileAtomic(file, f.content);
    }
  }

  async importCoco(input: ApiParsedInput<'importCoco'>): Promise<ApiOutput<'importCoco'>> {
    let text = input.text;
    let fileName = input.fileName;
    if (text === undefined) {
      const file = await this.requireDialogs().chooseCocoFile();
      if (!file) return { cancelled: true, matched: 0, unmatched: 0, annotations: 0, problems: [] };
      text = await readImportFile(file);
      fileName = path.basename(file);
    }
    const byName = new Map([...this.images.values()].map((img) => [img.name, img]));
    let imported: ReturnType<typeof importCocoText>;
    try {
      imported = importCocoText(text, [...byName.keys()], this.categories);
    } catch (err) {
      throw new ApiError(`could not import${fileName ? ` ${fileName}` : ''}: ${(err as Error).message}`);
    }
    // Everything was checked above; from here on nothing can fail, and the changes below reach the
    // journal in one record (one flush), so a crash keeps the whole import or none of it.
    for (const m of imported.matched) {
      const img = byName.get(m.name)!;
      // Boxes are in the COCO file's pixels; a file sized differently from the photo is scaled to it.
      const sx = img.width ? img.width / m.width : 1;
      const sy = img.height ? img.height / m.height : 1;
      img.boxes = m.boxes.map((b) => ({
        id: `${this.boxPrefix}_${this.nextBox++}`,
        categoryId: b.categoryId,
        score: b.score,
        verified: b.verified,
        bbox: [b.bbox[0] * sx, b.bbox[1] * sy, b.bbox[2] * sx, b.bbox[3] * sy].map((v) => Math.round(v * 100) / 100) as Box['bbox'],
      }));
      img.width ??= m.width;
      img.height ??= m.height;
      img.state = 'done';
      img.reason = undefined;
      if (this.queued.delete(img.id)) this.batch.total--;
      img.revision++;
      this.markDirty(img);
      this.emitImage(img);
    }
    if (imported.matched.length === 0 && this.images.size > 0) imported.problems.unshift('no image of the file has the name of an open image');
    return { cancelled: false, matched: imported.matched.length, unmatched: imported.unmatched, annotations: imported.annotations, problems: imported.problems };
  }

  // -------------------------------------------------------------------------------------------

  /** Writes everything and stops the detector workers (the app is quitting). */
  async close(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.flushTimer = null;
    this.queue.length = 0;
    this.queued.clear();
    await this.flush();
    await (this.saving = this.saving.then(() => this.snapshot()));
    this.closed = true;
    const pool = this.pool ?? (this.poolStarting ? await this.poolStarting.catch(() => null) : null);
    await pool?.close();
    this.pool = null;
  }
}

/** A COCO file chosen in a dialog, its size checked before a byte of it is read. */
async function readImportFile(file: string): Promise<string> {
  const name = path.basename(file);
  try {
    const st = await fs.promises.stat(file);
    if (!st.isFile()) throw new ApiError(`could not import ${name}: not a file`);
    const tooLarge = importTooLarge(st.size);
    if (tooLarge) throw new ApiError(`could not import ${name}: ${tooLarge}`);
    return await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ApiError(`could not import ${name}: ${code === 'ENOENT' ? 'file not found' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message}`);
  }
}
