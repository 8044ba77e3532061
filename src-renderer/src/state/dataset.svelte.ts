// Clean data sets in the window: the groups of near-duplicate photos (the kept one of each first) and
// the boxes that look wrong, as the main side finds them. Asked for again a moment after photos
// change (not while a batch runs: at its end), and at once when the person opens one of the lists.
import { call, onEvent, type HashingProgress, type NearDuplicateGroup, type NearDuplicates, type UnusualBox } from '../api';
import { messages } from './messages.svelte';
import { sync } from './sync.svelte';

/** After a change, the lists are asked for again this much later (edits come in bursts). */
const REFRESH_DELAY_MS = 700;
/**
 * Asked by themselves at most once per this many times what the last answer took: looking at every
 * box of 10,000 photos takes the main side most of a second, which it should not spend after every edit.
 */
const COST_SPACING = 10;

export class DatasetReview {
  near = $state.raw<NearDuplicates | null>(null);
  /** Photos being hashed for the near-duplicates (the first time they are shown), or null. */
  hashing = $state.raw<HashingProgress | null>(null);
  unusual = $state.raw<UnusualBox[]>([]);
  /** The slider's value, as the filters give it (they may not be imported from here). */
  minScoreOf: () => number | null = () => null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private started = false;
  /** When the last answer was asked for, and how long it took (ms). */
  private lastAsked = 0;
  private lastCost = 0;

  /** Per photo: its group. */
  groupOf = $derived.by(() => {
    const map = new Map<string, NearDuplicateGroup>();
    for (const g of this.near?.groups ?? []) for (const img of g.images) map.set(img.id, g);
    return map;
  });

  /** Photos in a group, group by group, the kept one of each first: the list's order in "Near-duplicates". */
  groupedPhotos = $derived((this.near?.groups ?? []).flatMap((g) => g.images.map((i) => i.id)));

  /** Per photo, its unusual boxes, most suspicious first; the photos in order of their most suspicious box. */
  unusualByPhoto = $derived.by(() => {
    const map = new Map<string, UnusualBox[]>();
    for (const b of this.unusual) {
      const list = map.get(b.imageId);
      if (list) list.push(b);
      else map.set(b.imageId, [b]);
    }
    return map;
  });
  unusualPhotos = $derived([...this.unusualByPhoto.keys()]);

  /** Per box of the photo on screen: why it looks wrong (all its reasons). */
  problemsOnScreen = $derived.by(() => {
    const map = new Map<string, UnusualBox[]>();
    const id = sync.current?.id;
    for (const b of (id && this.unusualByPhoto.get(id)) || []) {
      const list = map.get(b.boxId);
      if (list) list.push(b);
      else map.set(b.boxId, [b]);
    }
    return map;
  });

  /** Starts listening: photos changed, a batch ended, photos being hashed. */
  start(): void {
    if (this.started) return;
    this.started = true;
    onEvent((event) => {
      if (event.type === 'hashing') this.hashing = event.progress.running ? event.progress : null;
      else if (event.type === 'progress' && !event.batch.running) this.schedule(REFRESH_DELAY_MS);
      else if (event.type === 'workspace' || (event.type === 'image' && !sync.batch.running)) this.schedule(REFRESH_DELAY_MS);
    });
    this.schedule(0);
  }

  /** Asks for both lists after `delay` (a request already waiting is not pushed back further). */
  schedule(delay: number): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(delay, this.lastAsked + COST_SPACING * this.lastCost - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh(false);
    }, wait);
  }

  /**
   * Asks the main side for the groups and the unusual boxes. `hashMissing` hashes the photos without a
   * hash first (the person opened "Near-duplicates"); otherwise the counts cover the photos hashed so far.
   */
  async refresh(hashMissing: boolean): Promise<void> {
    if (sync.images.length === 0) {
      this.near = null;
      this.unusual = [];
      return;
    }
    const minScore = this.minScoreOf();
    const asked = performance.now();
    try {
      const [near, unusual] = await Promise.all([call('getNearDuplicates', { hashMissing }), minScore === null ? null : call('getUnusualBoxes', { minScore })]);
      this.near = near;
      if (unusual) this.unusual = unusual.boxes;
      // Hashing is the person's own wait (they opened the list); the spacing is for the lists alone.
      if (!hashMissing) [this.lastAsked, this.lastCost] = [asked, performance.now() - asked];
    } catch (err) {
      messages.report(err);
    } finally {
      if (hashMissing) this.hashing = null;
    }
  }

  /** Keeps this photo of its group; returns the photo kept before (for undo), or null when it failed. */
  async keep(groupId: string, imageId: string): Promise<string | null> {
    try {
      const { group, previous } = await call('keepNearDuplicate', { groupId, imageId });
      if (this.near) this.near = { ...this.near, groups: this.near.groups.map((g) => (g.id === group.id ? group : g)) };
      return previous;
    } catch (err) {
      messages.report(err);
      return null;
    }
  }
}

export const dataset = new DatasetReview();
