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
import { boxSchema, type SaveLocation } from '../../contract/api.js';
import { writeFileAtomic } from '../atomic-write.js';

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
});
export type SavedImage = z.infer<typeof savedImageSchema>;

const projectSchema = z.object({
  format: z.literal('fashion-detect-project'),
  version: z.literal(1),
  home: z.string(),
  savedAt: z.string(),
  model: z.string().optional(),
  images: z.array(savedImageSchema),
});

/** A journal line: an image's whole record, or its removal (back to pending). */
const journalLineSchema = z.union([
  z.object({ t: z.literal('image'), image: savedImageSchema }),
  z.object({ t: z.literal('forget'), name: z.string() }),
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
  /** Lines of the journal that could not be read (a torn last line after a crash is expected). */
  skippedLines: number;
}

function readProjectAt(dir: string, location: SaveLocation): LoadedProject | undefined {
  const projectFile = path.join(dir, PROJECT_FILE);
  const journalFile = path.join(dir, JOURNAL_FILE);
  const images = new Map<string, SavedImage>();
  let savedAt: string | null = null;
  let found = false;
  if (fs.existsSync(projectFile)) {
    const parsed = projectSchema.safeParse(JSON.parse(fs.readFileSync(projectFile, 'utf8')));
    if (!parsed.success) throw new Error(`${projectFile} is not a Fashion Detect project: ${parsed.error.issues[0]?.message}`);
    for (const img of parsed.data.images) images.set(img.name, img);
    savedAt = parsed.data.savedAt;
    found = true;
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
      else images.delete(entry.name);
    }
    const mtime = fs.statSync(journalFile).mtime.toISOString();
    if (text.trim() && (!savedAt || mtime > savedAt)) savedAt = mtime;
  }
  return found ? { location, dir, images, savedAt, skippedLines } : undefined;
}

/** The saved work of a folder, from whichever location holds the newer save; undefined when none. */
export function loadProject(home: string, dataDir: string): LoadedProject | undefined {
  const candidates = (['beside-images', 'app-data'] as const)
    .map((location) => {
      try {
        return readProjectAt(projectDir(home, location, dataDir), location);
      } catch {
        return undefined;
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
    private readonly model: string,
  ) {
    this.projectFile = path.join(dir, PROJECT_FILE);
    this.journalFile = path.join(dir, JOURNAL_FILE);
  }

  get pendingJournalLines(): number {
    return this.journalLines;
  }

  /** Appends records and waits until they are on the disk. */
  async append(images: SavedImage[], forgotten: string[] = []): Promise<void> {
    if (images.length === 0 && forgotten.length === 0) return;
    await fs.promises.mkdir(this.dir, { recursive: true });
    const lines = [
      ...images.map((image) => JSON.stringify({ t: 'image', image } satisfies JournalLine)),
      ...forgotten.map((name) => JSON.stringify({ t: 'forget', name } satisfies JournalLine)),
    ];
    const handle = await fs.promises.open(this.journalFile, 'a');
    try {
      await handle.write(lines.join('\n') + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.journalLines += lines.length;
  }

  /** Writes the whole project atomically, then empties the journal (replaying it again would be harmless). */
  snapshot(images: SavedImage[]): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const doc: z.infer<typeof projectSchema> = {
      format: 'fashion-detect-project',
      version: 1,
      home: this.home,
      savedAt: new Date().toISOString(),
      model: this.model,
      images,
    };
    writeFileAtomic(this.projectFile, JSON.stringify(doc));
    writeFileAtomic(this.journalFile, '');
    this.journalLines = 0;
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
