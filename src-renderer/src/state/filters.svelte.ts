// What the window shows: the category checks, the confidence slider and the list's Show filter,
// with the counts they give (the photo on screen at once, the others from the statistics the main
// side counts at the slider). The next and previous photo are the next and previous listed ones.
import { call, type Box, type ImageDetail, type ImageSummary, type Statistics } from '../api';
import { dataset } from './dataset.svelte';
import { messages } from './messages.svelte';
import { sync } from './sync.svelte';

export type ListFilter = 'all' | 'to-review' | 'no-items' | 'failed' | 'pending' | 'near-duplicates' | 'unusual';

/** Lists in an order of their own (group by group; most suspicious first), not the workspace's. */
const ORDERED: ReadonlySet<ListFilter> = new Set(['near-duplicates', 'unusual']);

export class Filters {
  /** Category id -> shown; a category not in it is shown. */
  checked = $state<Record<number, boolean>>({});
  /** The slider's value once the person moved it. */
  private chosenMinScore = $state<number | null>(null);
  /**
   * The slider: where the person put it, else where the model suggests (its manifest's
   * defaultMinScore, which comes with the workspace); null until the workspace arrives.
   */
  minScore = $derived.by(() => this.chosenMinScore ?? sync.workspace?.model.defaultMinScore ?? null);
  /** The slider's value as shown ("48%"); "…" until the workspace says where it is. */
  minScoreText = $derived(this.minScore === null ? '…' : `${Math.round(this.minScore * 100)}%`);
  /** Which photos the list shows: all, or the ones a review looks for first. */
  listFilter = $state<ListFilter>('all');
  /** Counts at the slider over the whole set, from the main side. */
  stats = $state.raw<Statistics | null>(null);
  /** The photos that were labelled when the statistics were asked for: the others' counts are not in them yet. */
  private statsCover = $state.raw<ReadonlySet<string>>(new Set());
  private statsTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    dataset.minScoreOf = () => this.minScore;
    sync.listen({
      changed: (delay, restart) => this.scheduleStats(delay, restart),
      leaving: (photo) => this.keepCountsOf(photo),
    });
  }

  isChecked(categoryId: number): boolean {
    return this.checked[categoryId] !== false;
  }

  /** A box the slider shows: scored at it or above, or one a person touched (verified). */
  atSlider(b: Box): boolean {
    return b.verified || (this.minScore !== null && b.score >= this.minScore);
  }

  setMinScore(value: number): void {
    this.chosenMinScore = value;
    this.scheduleStats(60, true);
    dataset.schedule(300);
  }

  /** Boxes of the photo on screen that the filters show. */
  visibleBoxes = $derived.by(() => {
    const boxes = sync.current?.boxes ?? [];
    // Largest first, so a small box inside a large one is drawn on top and can be picked.
    return boxes.filter((b) => this.isChecked(b.categoryId) && this.atSlider(b)).sort((a, b) => b.bbox[2] * b.bbox[3] - a.bbox[2] * a.bbox[3]);
  });

  /** Per category: boxes of the photo on screen at the slider. */
  imageCounts = $derived.by(() => {
    const counts = new Map<number, number>();
    for (const b of sync.current?.boxes ?? []) if (this.atSlider(b)) counts.set(b.categoryId, (counts.get(b.categoryId) ?? 0) + 1);
    return counts;
  });

  /** Per category: boxes of all photos at the slider. */
  setCounts = $derived.by(() => new Map((this.stats?.perCategory ?? []).map((c) => [c.categoryId, c.count])));

  /**
   * Items of a listed photo at the slider (all categories; verified boxes always), so the list agrees
   * with the viewer rather than counting every low-scored box kept for the slider. The open photo is
   * counted here, at once; the others come with the statistics (asked again within 300 ms of a change).
   * Null for a photo labelled since the statistics were asked for: counting, not "0 items".
   */
  shownCount(image: ImageSummary): number | null {
    const current = sync.current;
    // The photo on screen at once, from its boxes; none while its detail still shows it before labelling.
    if (current && image.id === current.id) return current.state === image.state ? this.currentCount() : null;
    if (!this.stats) return image.count;
    // Labelled since the statistics were asked for: not counted yet (rather than a flash of "0 items").
    if (image.count > 0 && !this.statsCover.has(image.id)) return null;
    return this.stats.perImage[image.id] ?? 0;
  }

  /** Boxes of the photo on screen at the slider. */
  private currentCount(): number {
    return [...this.imageCounts.values()].reduce((n, c) => n + c, 0);
  }

  /** Boxes of a listed photo at the slider that no person has verified yet (the open photo at once, the others with the statistics). */
  unverifiedCount(image: ImageSummary): number {
    const current = sync.current;
    if (current && image.id === current.id) return current.boxes.filter((b) => !b.verified && this.atSlider(b)).length;
    return this.stats?.unverifiedPerImage[image.id] ?? 0;
  }

  matchesFilter(image: ImageSummary, filter: ListFilter = this.listFilter): boolean {
    switch (filter) {
      case 'all':
        return true;
      case 'no-items':
        return image.state === 'done' && this.shownCount(image) === 0;
      case 'to-review':
        return image.state === 'done' && this.unverifiedCount(image) > 0;
      case 'near-duplicates':
        return dataset.groupOf.has(image.id);
      case 'unusual':
        return dataset.unusualByPhoto.has(image.id);
      default:
        return image.state === filter;
    }
  }

  /** The photos in the list, in workspace order (group by group, or most suspicious first); the list's keys and ←/→ walk these. */
  listed = $derived.by(() => {
    if (this.listFilter === 'all') return sync.images;
    if (!ORDERED.has(this.listFilter)) return sync.images.filter((img) => this.matchesFilter(img));
    const ids = this.listFilter === 'near-duplicates' ? dataset.groupedPhotos : dataset.unusualPhotos;
    return ids.flatMap((id) => {
      const i = sync.indexOf(id);
      return i < 0 ? [] : [sync.images[i]];
    });
  });
  /** Where the photo on screen was in an ordered list, so ←/→ go on from there when it leaves the list (accepted, or kept). */
  private orderedPlace = -1;

  /** The next (delta 1) or previous (-1) photo the list shows; from a photo the filter left out, the nearest in that direction. */
  step(delta: 1 | -1): void {
    if (ORDERED.has(this.listFilter)) return this.stepInOrder(delta);
    const images = sync.images;
    const i = sync.indexOf(sync.currentId);
    if (i < 0) {
      if (this.listed.length > 0) void sync.select(this.listed[0].id);
      return;
    }
    for (let k = i + delta; k >= 0 && k < images.length; k += delta) {
      if (this.matchesFilter(images[k])) {
        void sync.select(images[k].id);
        return;
      }
    }
    // Said, so a review that reaches the end knows it did (and a key that did nothing is explained).
    messages.notify('info', delta > 0 ? 'No photo after this one in the list' : 'No photo before this one in the list');
  }

  /** ←/→ in a list of its own order: its next or previous photo. */
  private stepInOrder(delta: 1 | -1): void {
    const listed = this.listed;
    const here = listed.findIndex((img) => img.id === sync.currentId);
    if (here >= 0) this.orderedPlace = here;
    const next = here >= 0 ? here + delta : delta > 0 ? Math.max(0, this.orderedPlace) : this.orderedPlace - 1;
    if (next >= 0 && next < listed.length) {
      this.orderedPlace = next;
      void sync.select(listed[next].id);
      return;
    }
    messages.notify('info', delta > 0 ? 'No photo after this one in the list' : 'No photo before this one in the list');
  }

  /** Asks for the statistics after `delay`; during a batch at most that often (a pending request is not pushed back). */
  private scheduleStats(delay: number, restart = false): void {
    if (this.statsTimer !== undefined && !restart) return;
    clearTimeout(this.statsTimer);
    this.statsTimer = setTimeout(async () => {
      this.statsTimer = undefined;
      // Not before the workspace says where the slider is: its arrival asks again.
      if (this.minScore === null) return;
      try {
        const cover = new Set(sync.images.filter((img) => img.state === 'done').map((img) => img.id));
        this.stats = await call('getStatistics', { minScore: this.minScore });
        this.statsCover = cover;
      } catch {
        // the next change asks again
      }
    }, delay);
  }

  /**
   * The list counts the photo being left from its boxes on screen until the statistics come back, so
   * a photo just accepted does not flash back into "To review".
   */
  private keepCountsOf(photo: ImageDetail | null): void {
    if (!this.stats || !photo) return;
    // The open photo's own counts, as the list shows them while it is open.
    const shown = this.currentCount();
    const unverified = this.unverifiedCount(photo);
    const perImage = { ...this.stats.perImage };
    const unverifiedPerImage = { ...this.stats.unverifiedPerImage };
    if (shown > 0) perImage[photo.id] = shown;
    else delete perImage[photo.id];
    if (unverified > 0) unverifiedPerImage[photo.id] = unverified;
    else delete unverifiedPerImage[photo.id];
    this.stats = { ...this.stats, perImage, unverifiedPerImage };
    if (!this.statsCover.has(photo.id)) this.statsCover = new Set([...this.statsCover, photo.id]);
  }
}

export const filters = new Filters();
