// The workspace's categories: what its boxes may be, each with the colour the window draws it in.
// The workspace keeps its own list (saved with the project): it starts as the first model's, and a
// model's categories join it by name (case aside), names it lacks being added with ids and colours
// of their own. So a model trained on other categories (say, only shoes) labels into the same list,
// and exports hold the workspace's categories whatever model labelled each photo.
import type { CategoryInfo } from '../contract/api.js';
import type { Category } from '../core/formats/categories.js';
import { categoryColour } from './colours.js';

const key = (name: string) => name.trim().toLowerCase();

export class WorkspaceCategories {
  private categories: Category[] = [];
  private byName = new Map<string, Category>();
  /** Bumped on every change: the saving part writes the list again when it moved. */
  version = 0;

  private constructor(
    categories: readonly Category[],
    /** Told when names were added (the window fetches the workspace again). */
    private readonly onChange: () => void = () => {},
  ) {
    this.set(categories);
  }

  static fromModel(categories: readonly Category[] | undefined, onChange?: () => void): WorkspaceCategories {
    return new WorkspaceCategories(categories ?? [], onChange);
  }

  get list(): readonly Category[] {
    return this.categories;
  }

  /** For the window: with colours, in the order of the list. */
  get info(): CategoryInfo[] {
    return this.categories.map((c, i) => ({ id: c.id, name: c.name, supercategory: c.supercategory, colour: categoryColour(c, i) }));
  }

  has(id: number): boolean {
    return this.categories.some((c) => c.id === id);
  }

  /** The id of a category name, added to the list (with a new id) when the workspace lacks it. */
  idFor(name: string, supercategory = ''): number {
    const found = this.byName.get(key(name));
    if (found) return found.id;
    const added = { id: Math.max(0, ...this.categories.map((c) => c.id)) + 1, name: name.trim(), supercategory };
    this.categories.push(added);
    this.byName.set(key(added.name), added);
    this.version++;
    this.onChange();
    return added.id;
  }

  /** Joins a model's (or another project's) categories by name; returns their ids mapped to the workspace's. */
  join(categories: readonly Category[]): Map<number, number> {
    return new Map(categories.map((c) => [c.id, this.idFor(c.name, c.supercategory)]));
  }

  /** The list of a saved project replaces this one (a folder with saved work was opened). */
  restore(categories: readonly Category[]): void {
    this.set(categories);
    this.version++;
  }

  private set(categories: readonly Category[]): void {
    this.categories = categories.map((c) => ({ id: c.id, name: c.name, supercategory: c.supercategory }));
    this.byName = new Map(this.categories.map((c) => [key(c.name), c]));
  }
}
