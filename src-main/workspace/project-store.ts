// Where a workspace's work lives on disk, and how it gets there without loss.
//
// A project is a snapshot (project.json, written atomically) plus a journal (journal.jsonl) of
// image records appended since the snapshot and fsynced before the app says "saved". Each journal
// line is a whole image record, so replaying it twice gives the same result: a crash at any point
// (mid-append, between snapshot and journal truncation) loses nothing that was reported saved.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { boxSchema, type SaveLocation } from '../contract/api.js';
import { writeFileAtomic } from '../core/base/atomic-write.js';
import { isPhotoHash, type PhotoHash } from '../core/dedupe/phash.js';
import { errnoReason } from '../core/images/walk.js';

/** The folder next to the images (hidden, so folder walks skip it). */
export const BESIDE_FOLDER = '.fashion-detect';
const PROJECT_FILE = 'project.json';
const JOURNAL_FILE = 'journal.jsonl';

export const savedImageSchema = z.object({
  /** Path relative to the project's home, with "/". */
  name: z.string().min(1),
  state: z.enum(['done', 'failed']),
  reason: z.string().optional(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  boxes: z.array(boxSchema),
  /** The file as it was labelled: a changed file is labelled again rather than shown with stale boxes. */
  size: z.number().int().nonnegative().optional(),
  mtimeMs: z.number().nonnegative().optional(),
  /** A failed image's file as it was when it failed: Label all tries it again once that changes. */
  failedAs: z.string().max(200).optional(),
  /** The model whose boxes these are. */
  labelledBy: z.object({ id: z.string().min(1), version: z.string() }).optional(),
  /**
   * The photo's perceptual hashes (core/dedupe), for the near-duplicates. A hash of another recipe's
   * version (or anything else) is dropped, never a reason to refuse the project: it is computed again.
   */
  hash: z
    .unknown()
    .transform((h): PhotoHash | undefined => (isPhotoHash(h) ? h : undefined))
    .optional(),
});
export type SavedImage = z.infer<typeof savedImageSchema>;

/** The workspace's own categories (boxes' categoryId are these ids); projects of earlier versions have none. */
const savedCategoriesSchema = z.array(z.object({ id: z.number().int().positive(), name: z.string().min(1), supercategory: z.string().default('') }));
export type SavedCategories = z.infer<typeof savedCategoriesSchema>;

const projectSchema = z.object({
  format: z.literal('fashion-detect-project'),
  version: z.literal(1),
  home: z.string(),
  savedAt: z.string(),
  /** The model in use when it was written ("id@version"); for projects without labelledBy, the one that labelled them. */
  model: z.string().optional(),
  categories: savedCategoriesSchema.optional(),
  images: z.array(savedImageSchema),
  /** The photo last shown in the window (an image name): reopening the folder starts there. */
  viewed: z.string().optional(),
  /** Photos a person chose to keep of their near-duplicates ("Keep this one"), by name. */
  kept: z.array(z.string()).optional(),
});

/**
 * A journal line: an image's whole record, its removal (back to pending), or several of both written
 * by one save. One save is one line, so a line torn by a crash takes its whole save with it, never
 * half of it (half an import, half a batch of results).
 */
const journalLineSchema = z.union([
  z.object({ t: z.literal('image'), image: savedImageSchema }),
  z.object({ t: z.literal('forget'), name: z.string() }),
  z.object({ t: z.literal('batch'), images: z.array(savedImageSchema), forgotten: z.array(z.string()) }),
  z.object({ t: z.literal('viewed'), name: z.string() }),
  z.object({ t: z.literal('categories'), categories: savedCategoriesSchema }),
  z.object({ t: z.literal('kept'), names: z.array(z.string()) }),
]);
type JournalLine = z.infer<typeof journalLineSchema>;

export function projectDir(home: string, location: SaveLocation, dataDir: string): string {
  if (location === 'beside-images') return path.join(home, BESIDE_FOLDER);
  const key = createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 20);
  return path.join(dataDir, 'projects', key);
}

export interface LoadedProject {
  location: SaveLocation;
  dir: string;
  images: Map<string, SavedImage>;
  savedAt: string | null;
  /** The photo last shown in the window, by name. */
  viewed?: string;
  /** The workspace's categories as saved (absent in projects of earlier versions). */
  categories?: SavedCategories;
  /** The model named by the project ("id@version"). */
  model?: string;
  /** Photos chosen to keep of their near-duplicates, by name. */
  kept?: string[];
  /** Lines of the journal that could not be read (a torn last line after a crash is expected). */
  skippedLines: number;
  /** A project file that could not be read: what was wrong, and the name it was moved to (never overwritten). */
  damaged?: { reason: string; keptAs: string };
}

function readProjectAt(dir: string, location: SaveLocation): LoadedProject | undefined {
  const projectFile = path.join(dir, PROJECT_FILE);
  const journalFile = path.join(dir, JOURNAL_FILE);
  const images = new Map<string, SavedImage>();
  let savedAt: string | null = null;
  let viewed: string | undefined;
  let categories: SavedCategories | undefined;
  let model: string | undefined;
  let kept: string[] | undefined;
  let found = false;
  let damaged: LoadedProject['damaged'];
  if (fs.existsSync(projectFile)) {
    found = true;
    let reason: string | undefined;
    try {
      const parsed = projectSchema.safeParse(JSON.parse(fs.readFileSync(projectFile, 'utf8')));
      if (parsed.success) {
        for (const img of parsed.data.images) images.set(img.name, img);
        savedAt = parsed.data.savedAt;
        viewed = parsed.data.viewed;
        categories = parsed.data.categories;
        model = parsed.data.model;
        kept = parsed.data.kept;
      } else {
        reason = `not a Fashion Detect project (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code) throw err; // unreadable: leave it where it is
      reason = `not valid JSON (${(err as Error).message})`;
    }
    if (reason) {
      // Damaged by something other than the app (its writes are atomic): moved aside, so the next
      // snapshot cannot overwrite what may still be recovered by hand. The journal is still read.
      const keptAs = path.join(dir, `project.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
      fs.renameSync(projectFile, keptAs);
      damaged = { reason, keptAs };
    }
  }
  let skippedLines = 0;
  if (fs.existsSync(journalFile)) {
    found = true;
    const text = fs.readFileSync(journalFile, 'utf8');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let entry: JournalLine;
      try {
        entry = journalLineSchema.parse(JSON.parse(line));
      } catch {
        skippedLines++;
        continue;
      }
      if (entry.t === 'image') images.set(entry.image.name, entry.image);
      else if (entry.t === 'forget') images.delete(entry.name);
      else if (entry.t === 'viewed') viewed = entry.name;
      else if (entry.t === 'categories') categories = entry.categories;
      else if (entry.t === 'kept') kept = entry.names;
      else {
        for (const image of entry.images) images.set(image.name, image);
        for (const name of entry.forgotten) images.delete(name);
      }
    }
    const mtime = fs.statSync(journalFile).mtime.toISOString();
    if (text.trim() && (!savedAt || mtime > savedAt)) savedAt = mtime;
  }
  const extra = { ...(viewed ? { viewed } : {}), ...(categories ? { categories } : {}), ...(model ? { model } : {}), ...(kept ? { kept } : {}), ...(damaged ? { damaged } : {}) };
  return found ? { location, dir, images, savedAt, skippedLines, ...extra } : undefined;
}

/**
 * The saved work of a folder, from whichever location holds the newer save; undefined when none.
 * Saved work that is there but cannot be read (permissions) throws: taking it for "no saved work"
 * would let the next save replace it.
 */
export function loadProject(home: string, dataDir: string): LoadedProject | undefined {
  const candidates = (['beside-images', 'app-data'] as const)
    .map((location) => {
      const dir = projectDir(home, location, dataDir);
      try {
        return readProjectAt(dir, location);
      } catch (err) {
        throw new Error(`the saved work of ${home} in ${dir} cannot be read (${errnoReason(err)})`, { cause: err });
      }
    })
    .filter((p): p is LoadedProject => p !== undefined);
  candidates.sort((a, b) => (b.savedAt ?? '').localeCompare(a.savedAt ?? ''));
  return candidates[0];
}

/** Writes one project: journal appends (fsynced) and snapshots (atomic). Calls are serialised by the caller. */
export class ProjectStore {
  private journalLines = 0;
  readonly projectFile: string;
  readonly journalFile: string;

  constructor(
    readonly dir: string,
    readonly home: string,
    /** The model in use, the workspace's categories and the photos kept of their near-duplicates, as the next snapshot writes them. */
    private readonly current: () => { model: string; categories: SavedCategories; kept: string[] },
  ) {
    this.projectFile = path.join(dir, PROJECT_FILE);
    this.journalFile = path.join(dir, JOURNAL_FILE);
  }

  get pendingJournalLines(): number {
    return this.journalLines;
  }

  /** Appends records as one journal line and waits until they are on the disk. */
  async append(images: SavedImage[], forgotten: string[] = []): Promise<void> {
    if (images.length === 0 && forgotten.length === 0) return;
    const entry: JournalLine =
      images.length === 1 && forgotten.length === 0 ? { t: 'image', image: images[0] }
      : images.length === 0 && forgotten.length === 1 ? { t: 'forget', name: forgotten[0] }
      : { t: 'batch', images, forgotten };
    await this.appendLine(entry);
    this.journalLines += images.length + forgotten.length;
  }

  /** Records which photo the window shows (a line of its own; the last one read wins). Not work, so not fsynced. */
  async appendViewed(name: string): Promise<void> {
    await this.appendLine({ t: 'viewed', name }, false);
    this.journalLines++;
  }

  /** Records the workspace's categories (a line of its own, before the boxes that use them), on disk before it returns. */
  async appendCategories(categories: SavedCategories): Promise<void> {
    await this.appendLine({ t: 'categories', categories });
    this.journalLines++;
  }

  /** Records which photos were chosen to keep of their near-duplicates (the whole list; the last line read wins), on disk before it returns. */
  async appendKept(names: string[]): Promise<void> {
    await this.appendLine({ t: 'kept', names });
    this.journalLines++;
  }

  private async appendLine(entry: JournalLine, durable = true): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true });
    const handle = await fs.promises.open(this.journalFile, 'a+');
    try {
      // A crash may have left a torn last line: start on a line of our own, or this record would be
      // glued to the torn one and lost with it on the next load.
      const { size } = await handle.stat();
      let separator = '';
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) separator = '\n';
      }
      // writeFile writes the whole buffer (write() may stop short on a large one).
      await handle.writeFile(`${separator}${JSON.stringify(entry)}\n`);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Writes the whole project atomically, then empties the journal (replaying it again would be harmless). */
  snapshot(images: SavedImage[], viewed?: string): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const { model, categories, kept } = this.current();
    const doc: z.infer<typeof projectSchema> = {
      format: 'fashion-detect-project',
      version: 1,
      home: this.home,
      savedAt: new Date().toISOString(),
      model,
      categories,
      images,
      ...(viewed ? { viewed } : {}),
      ...(kept.length > 0 ? { kept } : {}),
    };
    writeFileAtomic(this.projectFile, JSON.stringify(doc));
    writeFileAtomic(this.journalFile, '');
    this.journalLines = 0;
    this.removeStaleTemporaries();
  }

  /** Temporary files of writes a crash interrupted before their rename: never read, so removed. */
  private removeStaleTemporaries(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return;
    }
    // writeFileAtomic's names: .<file>.<pid>.<time>.tmp
    const ours = /^\.(project\.json|journal\.jsonl)\.(\d+)\.\d+\.tmp$/;
    for (const name of names) {
      const m = ours.exec(name);
      if (m && Number(m[2]) !== process.pid) fs.rmSync(path.join(this.dir, name), { force: true });
    }
  }

  /** Removes this location's files (after the project moved to the other location). */
  remove(): void {
    fs.rmSync(this.projectFile, { force: true });
    fs.rmSync(this.journalFile, { force: true });
    try {
      fs.rmdirSync(this.dir);
    } catch {
      // not empty or already gone: leave it
    }
  }
}
