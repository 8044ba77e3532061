// Opening photos: by path (a drop in the desktop app, checked by the shell), by the desktop app's
// dialogs, or from the browser build's upload folder. Folders bring their photos recursively; the
// first folder opened becomes the workspace's home, whose saved work comes back with it.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, type ApiEvent, type ApiParsedInput, type DialogHost, type OpenResult, type Problem } from '../contract/api.js';
import { isImagePath } from '../core/images/decode.js';
import { findImages } from '../core/images/walk.js';
import type { Autosave } from './autosave.js';
import type { WorkspaceCategories } from './categories.js';
import { fileSignature, type ImageRecord, type ImageSet } from './image-set.js';
import type { KeepChoices } from './keep-choices.js';
import type { Labelling } from './labelling.js';
import { parseModelTag, type WorkspaceModel } from './model.js';
import type { LoadedProject } from './project-store.js';
import type { SavedImage } from './project-store.js';
import type { SavedWork } from './saved-work.js';

/** Newly opened photos up to this many are labelled at once; larger sets wait for "Label all". */
const AUTO_LABEL_LIMIT = 24;

export interface OpeningOptions {
  images: ImageSet;
  savedWork: SavedWork;
  autosave: Autosave;
  labelling: Labelling;
  categories: WorkspaceCategories;
  model: WorkspaceModel;
  /** The photos kept of their near-duplicates: the home folder's saved choices come back. */
  kept: KeepChoices;
  emit: (event: ApiEvent) => void;
  dialogs?: DialogHost;
  allowPath?: (absolutePath: string) => boolean;
  uploadsDir?: string;
  autoLabelLimit?: number;
}

/** A photo found by an opening, and the folder it was found in (none for a file opened by itself). */
interface Found {
  file: string;
  folder?: string;
}

export function requireDialogs(dialogs: DialogHost | undefined): DialogHost {
  if (!dialogs) throw new ApiError('dialogs are only in the desktop app; the browser build uses its file pickers');
  return dialogs;
}

export class Opening {
  constructor(private readonly options: OpeningOptions) {}

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
    const files = await requireDialogs(this.options.dialogs).chooseImages();
    if (files.length === 0) return this.cancelled();
    return this.open(files);
  }

  async openFolderDialog(): Promise<OpenResult> {
    const folder = await requireDialogs(this.options.dialogs).chooseFolder();
    if (!folder) return this.cancelled();
    return this.open([folder]);
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
    if (!this.options.images.home) this.setHome(realRoot);
    const result = await this.open(files, { refreshChanged: true });
    return { ...result, problems: [...problems, ...result.problems] };
  }

  /** Opens a folder the app itself chose (the browser build's upload folder at start). */
  async openTrustedFolder(dir: string): Promise<OpenResult> {
    return this.open([dir]);
  }

  private cancelled(): OpenResult {
    return { added: 0, alreadyOpen: 0, replaced: 0, restored: 0, waiting: this.options.labelling.waitingCount(), problems: [], cancelled: true };
  }

  /** The work of `dir` is this workspace's: its saved work is read (or the opening stops, see SavedWork.load). */
  private setHome(dir: string): void {
    const saved = this.options.savedWork.load(dir, true);
    this.options.images.home = dir;
    this.options.kept.restore(saved?.kept ?? []);
    // The folder's own category list comes back (its boxes use its ids); the model's names join it.
    if (saved?.categories) {
      this.options.categories.restore(saved.categories);
      this.options.categories.join(this.options.model.resolved?.manifest.categories ?? []);
    }
    this.options.autosave.openHome(dir, saved);
  }

  private async open(paths: string[], options: { refreshChanged?: boolean } = {}): Promise<OpenResult> {
    const { images, labelling } = this.options;
    const { found, problems } = await this.find(paths);
    const counts = { added: 0, alreadyOpen: 0, replaced: 0, restored: 0 };
    const fresh: ImageRecord[] = [];
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
      const existing = images.atFile(real);
      if (existing) {
        if (options.refreshChanged && st && (st.size !== existing.size || st.mtimeMs !== existing.mtimeMs)) {
          // The same name uploaded again with other content: its old boxes do not belong to it.
          images.replaced(existing, st);
          fresh.push(existing);
          counts.replaced++;
        } else {
          counts.alreadyOpen++;
        }
        continue;
      }
      const img = images.add(real, st);
      if (this.restore(img, this.options.savedWork.find(real, images.home, folder), st, folder)) counts.restored++;
      counts.added++;
      if (img.state === 'pending') fresh.push(img);
    }
    if (counts.added > 0 || fresh.length > 0) this.options.emit({ type: 'workspace' });
    // A few dropped photos are labelled at once; a big folder waits for "Label all".
    if (fresh.length > 0 && fresh.length <= (this.options.autoLabelLimit ?? AUTO_LABEL_LIMIT)) labelling.enqueue(fresh, true);
    return { ...counts, waiting: labelling.waitingCount(), problems: problems.map((p) => ({ file: images.home ? images.nameFor(p.file) : p.file, reason: p.reason })), cancelled: false };
  }

  /** The photos under the paths (folders walked), and what could not be opened; the first path opened sets the home. */
  private async find(paths: string[]): Promise<{ found: Found[]; problems: Problem[] }> {
    const problems: Problem[] = [];
    const found: Found[] = [];
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
        if (!this.options.images.home) this.setHome(real);
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
        if (!this.options.images.home) this.setHome(path.dirname(real));
        found.push({ file: real });
      }
    }
    return { found, problems };
  }

  /** Brings back a photo's saved work, if it was saved for the file as it is now. */
  private restore(img: ImageRecord, found: { saved: SavedImage; project: LoadedProject } | undefined, st: fs.Stats | undefined, folder: string | undefined): boolean {
    if (!found || !st) return false;
    const { saved, project } = found;
    const unchanged = (saved.size === undefined || saved.size === st.size) && (saved.mtimeMs === undefined || Math.abs(saved.mtimeMs - st.mtimeMs) < 1);
    if (!unchanged) return false;
    img.state = saved.state;
    img.reason = saved.reason;
    img.width = saved.width;
    img.height = saved.height;
    img.boxes = saved.boxes;
    img.hash = saved.hash;
    // Another folder's project has categories of its own: its boxes join this workspace's by name.
    if (folder && folder !== this.options.images.home && project.categories) {
      const ids = this.options.categories.join(project.categories);
      img.boxes = saved.boxes.map((b) => ({ ...b, categoryId: ids.get(b.categoryId) ?? b.categoryId }));
    }
    // Projects of earlier versions (no category list of their own) name one model for all their photos.
    const earlier = !project.categories && saved.state === 'done';
    img.labelledBy = saved.labelledBy ?? (earlier ? parseModelTag(project.model) : undefined);
    // A project saved before failures were marked: what the file is now counts as what failed.
    if (img.state === 'failed') img.failedAs = saved.failedAs ?? fileSignature(img.file);
    // Work restored from another folder's project joins this one's.
    if (folder && folder !== this.options.images.home) this.options.autosave.markDirty(img);
    return true;
  }
}
