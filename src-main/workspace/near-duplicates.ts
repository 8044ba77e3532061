// Near-duplicate photos among the open ones: grouped by their perceptual hashes (core/dedupe), the
// detector's (computed while labelling) or, for photos without one (projects saved before hashes were
// kept, photos not labelled), hashed from the file when first needed, with progress. Of each group
// one photo is kept: the one a person chose (KeepChoices), else the one with the most pixels.
import { ApiError, type ApiEvent, type ApiOutput, type ApiParsedInput, type NearDuplicateGroup } from '../contract/api.js';
import { DEFAULT_MAX_DISTANCE, groupNearDuplicates, type HashedPhoto, type NearDuplicateOptions } from '../core/dedupe/groups.js';
import { hashFiles } from '../core/dedupe/hash-file.js';
import { hammingDistance, type PhotoHash } from '../core/dedupe/phash.js';
import type { ImageRecord, ImageSet, RecordKeeper } from './image-set.js';
import type { KeepChoices } from './keep-choices.js';

const PROGRESS_INTERVAL_MS = 200;
/** Photos hashed at once: sharp decodes on its own threads, and the window's own work goes on. */
const HASH_CONCURRENCY = 2;

export interface NearDuplicatesOptions {
  images: ImageSet;
  /** Saves a photo's hash once computed (the autosave). */
  keeper: RecordKeeper;
  kept: KeepChoices;
  emit: (event: ApiEvent) => void;
}

/** A group as the workspace holds it: the kept photo first. */
export interface RecordGroup {
  id: string;
  members: ImageRecord[];
  /** Bits from the kept photo, per member. */
  distances: number[];
  chosen: boolean;
}

/** Bits between two photos as the grouping compares them: each one's whole and inner (and mirrored) hashes against the other's whole. */
function pairDistance(a: PhotoHash, b: PhotoHash, mirror: boolean): number {
  const towards = (x: PhotoHash, y: PhotoHash) => Math.min(...[x.whole, x.inner, ...(mirror ? [x.wholeMirror, x.innerMirror] : [])].map((q) => hammingDistance(q, y.whole)));
  return Math.min(towards(a, b), towards(b, a));
}

const idNumber = (img: ImageRecord) => Number(img.id.slice(1));

export class NearDuplicates {
  /** Hashing runs once at a time; a second request waits and then hashes what is still missing. */
  private hashing: Promise<void> = Promise.resolve();
  /** The last grouping, by the hashes and options it was made from (the choices apply after). */
  private cache: { key: string; groups: ImageRecord[][] } | null = null;
  /** The options the window asked with last: "Keep this one" and exports use the same groups. */
  private options: Required<NearDuplicateOptions> = { maxDistance: DEFAULT_MAX_DISTANCE, mirror: false };

  constructor(private readonly parts: NearDuplicatesOptions) {}

  async find(input: ApiParsedInput<'getNearDuplicates'>): Promise<ApiOutput<'getNearDuplicates'>> {
    this.options = { maxDistance: input.maxDistance ?? DEFAULT_MAX_DISTANCE, mirror: input.mirror === true };
    const records = this.candidates();
    if (input.hashMissing !== false) await this.ensureHashes(records);
    const hashed = records.filter((r) => r.hash).length;
    const groups = this.groupsOf(records).map((g) => this.toContract(g));
    return { groups, hashed, unhashed: records.length - hashed, ...this.options };
  }

  async keep(input: ApiParsedInput<'keepNearDuplicate'>): Promise<ApiOutput<'keepNearDuplicate'>> {
    const group = this.groupsOf(this.candidates()).find((g) => g.id === input.groupId);
    if (!group) throw new ApiError(`no group ${input.groupId} of near-duplicates now (its photos changed): show the near-duplicates again`);
    const img = group.members.find((m) => m.id === input.imageId);
    if (!img) throw new ApiError(`photo ${input.imageId} is not one of the near-duplicates of group ${input.groupId}`);
    const previous = group.members[0].id;
    this.parts.kept.choose(img.name, group.members.filter((m) => m !== img).map((m) => m.name));
    const now = this.groupsOf(this.candidates()).find((g) => g.id === group.id)!;
    return { group: this.toContract(now), previous };
  }

  /**
   * The photos named that an export leaving near-duplicates out leaves out: of each group among them,
   * all but the kept one. Photos without a hash are hashed first.
   */
  async leftOutAmong(names: readonly string[]): Promise<Set<string>> {
    const groups = await this.groupsAmong(names);
    return new Set(groups.flatMap((g) => g.slice(1)));
  }

  /** The groups among the photos named (by name, the kept one first): what a split keeps on one side. */
  async groupsAmong(names: readonly string[]): Promise<string[][]> {
    const wanted = new Set(names);
    const records = [...this.parts.images.all()].filter((r) => wanted.has(r.name));
    await this.ensureHashes(records);
    return this.groupsOf(records).map((g) => g.members.map((m) => m.name));
  }

  /** The photos that can be compared: all but those that could not be read. */
  private candidates(): ImageRecord[] {
    return [...this.parts.images.all()].filter((r) => r.state !== 'failed');
  }

  /** Groups of the records given (those with a hash), the kept photo of each first, in the order of their first photo's name. */
  private groupsOf(records: readonly ImageRecord[]): RecordGroup[] {
    const hashed = records.filter((r): r is ImageRecord & { hash: PhotoHash } => r.hash !== undefined);
    const key = `${this.options.maxDistance}:${this.options.mirror}:${hashed.map((r) => `${r.id}=${r.hash.whole}`).join(',')}`;
    if (this.cache?.key !== key) {
      const photos: HashedPhoto[] = hashed.map((r) => ({ name: r.name, width: r.width ?? 0, height: r.height ?? 0, fileBytes: r.size, hash: r.hash }));
      const byName = new Map(hashed.map((r) => [r.name, r]));
      this.cache = { key, groups: groupNearDuplicates(photos, this.options).map((names) => names.map((n) => byName.get(n)!)) };
    }
    const { kept } = this.parts;
    return this.cache.groups.map((members) => {
      const chosen = members.find((m) => kept.has(m.name));
      const ordered = chosen ? [chosen, ...members.filter((m) => m !== chosen)] : members;
      return {
        id: `g${Math.min(...members.map(idNumber))}`,
        members: ordered,
        distances: ordered.map((m, i) => (i === 0 ? 0 : pairDistance(ordered[0].hash!, m.hash!, this.options.mirror))),
        chosen: chosen !== undefined,
      };
    });
  }

  private toContract(group: RecordGroup): NearDuplicateGroup {
    return { id: group.id, images: group.members.map((m, i) => ({ id: m.id, distance: group.distances[i] })), chosen: group.chosen };
  }

  /** Hashes the records without a hash from their files (after any hashing under way), saving each hash with its photo. */
  private ensureHashes(records: readonly ImageRecord[]): Promise<void> {
    this.hashing = this.hashing.then(() => this.hashMissing(records.filter((r) => !r.hash && r.state !== 'failed')));
    return this.hashing;
  }

  private async hashMissing(records: readonly ImageRecord[]): Promise<void> {
    const missing = records.filter((r) => !r.hash);
    if (missing.length === 0) return;
    const { emit, keeper } = this.parts;
    let last = 0;
    const progress = (done: number, running: boolean) => emit({ type: 'hashing', progress: { running, done, total: missing.length } });
    progress(0, true);
    const byName = new Map(missing.map((r) => [r.name, r]));
    const { photos } = await hashFiles(
      missing.map((r) => ({ name: r.name, file: r.file })),
      {
        concurrency: HASH_CONCURRENCY,
        onProgress: (done) => {
          if (performance.now() - last < PROGRESS_INTERVAL_MS) return;
          last = performance.now();
          progress(done, true);
        },
      },
    );
    for (const photo of photos) {
      const img = byName.get(photo.name)!;
      // Closed, or relabelled meanwhile (the detector's hash is as good): left as it is.
      if (img.hash || this.parts.images.get(img.id) !== img) continue;
      img.hash = photo.hash;
      img.width ??= photo.width;
      img.height ??= photo.height;
      keeper.markDirty(img);
    }
    // Photos that could not be read stay without a hash; labelling reports why.
    progress(missing.length, false);
  }
}
