// The saved projects of the folders photos were opened from, each read once: the home folder's
// is the one this workspace goes on writing; another folder's only gives its photos' earlier boxes.
import path from 'node:path';
import type { ApiEvent, SaveLocation } from '../contract/api.js';
import { toPosix } from '../core/images/walk.js';
import { loadProject, type LoadedProject, type SavedImage } from './project-store.js';

export class SavedWork {
  private readonly byFolder = new Map<string, LoadedProject | undefined>();

  constructor(
    private readonly dataDir: string,
    private readonly emit: (event: ApiEvent) => void,
  ) {}

  /**
   * The saved work of a folder. For the home folder (`home`), whose project this workspace will write,
   * saved work that cannot be read stops the opening: nothing is opened, so nothing overwrites it.
   * For another folder it is only a source of earlier boxes, so the problem is reported and the rest goes on.
   */
  load(folder: string, home = false): LoadedProject | undefined {
    if (!this.byFolder.has(folder)) {
      let loaded: LoadedProject | undefined;
      try {
        loaded = loadProject(folder, this.dataDir);
        if (loaded?.damaged) {
          this.emit({ type: 'error', message: `the saved project in ${folder} was damaged (${loaded.damaged.reason}); it was kept as ${loaded.damaged.keptAs}, and the work saved since its last snapshot was restored` });
        }
      } catch (err) {
        if (home) throw new Error(`${(err as Error).message}: nothing was opened, so it is left as it is; give it back read and write permission and open the folder again`);
        this.emit({ type: 'error', message: `${(err as Error).message}; its earlier boxes are not restored` });
      }
      this.byFolder.set(folder, loaded);
    }
    return this.byFolder.get(folder);
  }

  /** Saved work for a file (and the project it is in): from the home project, or from the project of the folder it was opened from. */
  find(file: string, home: string | null, openedFolder: string | undefined): { saved: SavedImage; project: LoadedProject } | undefined {
    const folders: string[] = [];
    if (home) folders.push(home);
    if (openedFolder && openedFolder !== home) folders.push(openedFolder);
    for (const folder of folders) {
      const rel = path.relative(folder, file);
      if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) continue;
      const project = this.load(folder);
      const saved = project?.images.get(toPosix(rel));
      if (project && saved) return { saved, project };
    }
    return undefined;
  }

  /** What a snapshot just wrote is now the saved state of its home folder. */
  snapshotWritten(home: string, at: { location: SaveLocation; dir: string }, images: Map<string, SavedImage>, viewed: string | undefined): void {
    const loaded = this.byFolder.get(home);
    if (loaded) Object.assign(loaded, { images, viewed });
    else this.byFolder.set(home, { location: at.location, dir: at.dir, images, savedAt: new Date().toISOString(), skippedLines: 0, viewed });
  }

  clear(): void {
    this.byFolder.clear();
  }
}
