// The workspace's categories: what its boxes may be, each with the colour the window draws it in.
// Taken from the model today; a list of the workspace's own (models' categories matched to it by
// name) can replace fromModel without the parts that use it changing.
import type { CategoryInfo } from '../contract/api.js';
import type { Category } from '../core/formats/categories.js';
import { categoryColour } from './colours.js';

export class WorkspaceCategories {
  readonly list: readonly Category[];
  /** For the window: with colours. */
  readonly info: CategoryInfo[];
  private readonly ids: Set<number>;

  private constructor(categories: readonly Category[]) {
    this.list = categories;
    this.info = categories.map((c, i) => ({ id: c.id, name: c.name, supercategory: c.supercategory, colour: categoryColour(c, i) }));
    this.ids = new Set(categories.map((c) => c.id));
  }

  static fromModel(categories: readonly Category[] | undefined): WorkspaceCategories {
    return new WorkspaceCategories(categories ?? []);
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }
}
