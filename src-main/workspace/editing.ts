// A person's edits: every edit, undo and redo sends a photo's whole new box list, checked here
// before it replaces the old one (the last one sent wins).
import { ApiError, type ApiOutput, type ApiParsedInput, type Box } from '../contract/api.js';
import type { Autosave } from './autosave.js';
import type { WorkspaceCategories } from './categories.js';
import { roundBbox, type ImageSet } from './image-set.js';

/** Refuses a box list with an id used twice or a category the workspace does not have. */
export function checkBoxes(boxes: readonly Box[], categories: WorkspaceCategories): void {
  const ids = new Set<string>();
  for (const box of boxes) {
    if (ids.has(box.id)) throw new ApiError(`box id ${box.id} is used twice`);
    ids.add(box.id);
    if (!categories.has(box.categoryId)) throw new ApiError(`category ${box.categoryId} is not one of this workspace's categories`);
  }
}

export class Editing {
  constructor(
    private readonly images: ImageSet,
    private readonly categories: WorkspaceCategories,
    private readonly autosave: Autosave,
  ) {}

  async updateBoxes(input: ApiParsedInput<'updateBoxes'>): Promise<ApiOutput<'updateBoxes'>> {
    const img = this.images.require(input.id);
    checkBoxes(input.boxes, this.categories);
    img.boxes = input.boxes.map((b) => ({ ...b, bbox: roundBbox(b.bbox) }));
    // Boxes drawn or corrected on a picture that was not labelled make it a labelled picture.
    if (img.state !== 'done' && input.boxes.length > 0 && img.state !== 'labelling') {
      img.state = 'done';
      img.reason = undefined;
    }
    this.images.changed(img);
    return { ...this.images.detail(img), change: this.autosave.change };
  }
}
