// The photos a person chose to keep of their near-duplicates ("Keep this one"), by name relative to
// the home folder: saved with the work (a journal line of the whole list, and the project's `kept`),
// so a group keeps its choice when the folder is opened again, whichever photos are open.

export class KeepChoices {
  private readonly names = new Set<string>();
  /** Bumped on every change: the autosave writes the list when it differs from the version on disk. */
  version = 0;

  constructor(private readonly changed: () => void = () => {}) {}

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Keeps `name` of its group: the group's other photos are chosen no more. */
  choose(name: string, others: readonly string[]): void {
    for (const other of others) this.names.delete(other);
    this.names.add(name);
    this.version++;
    this.changed();
  }

  /** The choices saved with a folder's work (nothing to save: they are on disk already). */
  restore(names: readonly string[]): void {
    this.names.clear();
    for (const name of names) this.names.add(name);
    this.version++;
  }

  clear(): void {
    this.restore([]);
  }

  list(): string[] {
    return [...this.names].sort();
  }
}
