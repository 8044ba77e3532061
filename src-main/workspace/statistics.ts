// Counts for the window at its confidence slider: per category, per photo, and photos reviewed
// (what an export of verified boxes only would hold).
import type { ApiOutput } from '../contract/api.js';
import { atMinScore, isReviewed } from '../core/formats/labelled-images.js';
import type { WorkspaceCategories } from './categories.js';
import type { ImageSet } from './image-set.js';

export function statistics(images: ImageSet, categories: WorkspaceCategories, minScore: number): ApiOutput<'getStatistics'> {
  const counts = new Map(categories.list.map((c) => [c.id, 0]));
  let labelled = 0;
  let failed = 0;
  let reviewed = 0;
  const reviewFilter = { minScore, verifiedOnly: true };
  const perImage: Record<string, number> = {};
  const unverifiedPerImage: Record<string, number> = {};
  for (const img of images.all()) {
    if (img.state === 'done') labelled++;
    if (img.state === 'failed') failed++;
    if (img.state === 'done' && isReviewed(img, reviewFilter)) reviewed++;
    let shown = 0;
    let unverified = 0;
    for (const b of img.boxes) {
      if (!atMinScore(b, minScore)) continue;
      counts.set(b.categoryId, (counts.get(b.categoryId) ?? 0) + 1);
      shown++;
      if (!b.verified) unverified++;
    }
    if (shown > 0) perImage[img.id] = shown;
    if (unverified > 0) unverifiedPerImage[img.id] = unverified;
  }
  return { images: images.size, labelled, failed, reviewed, perCategory: [...counts].map(([categoryId, count]) => ({ categoryId, count })), perImage, unverifiedPerImage };
}
