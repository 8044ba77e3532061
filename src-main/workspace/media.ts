// What the window shows and downloads by id: thumbnails (cached on disk, keyed by the file's path,
// size and time) and display copies (kept in memory for the last few images), made by the core's
// image functions, and the browser build's downloads of exports.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { MediaBytes, MediaKind } from '../contract/api.js';
import { makeDisplayImage, makeThumbnail } from '../core/images/decode.js';
import type { ImageSet } from './image-set.js';

export const THUMBNAIL_SIZE = 192;
/** Longer side of the viewer's copy: sharp enough to zoom in on a 12-MP photo, small enough to send fast. */
export const DISPLAY_MAX_SIDE = 4096;
/** Formats every browser shows as they are. */
const BROWSER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif']);
const MIME: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif' };

/** Runs at most `limit` tasks at once, so a fast scroll through 10,000 thumbnails does not swamp the CPU. */
class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

export class MediaCache {
  private readonly thumbnailLimiter = new Limiter(3);
  private readonly inProgress = new Map<string, Promise<Buffer>>();
  private readonly displays = new Map<string, Promise<{ bytes: Buffer; mimeType: string }>>();

  constructor(private readonly cacheDir: string) {}

  private async key(file: string): Promise<string> {
    const st = await fs.promises.stat(file);
    return createHash('sha256').update(`${file}\0${st.size}\0${st.mtimeMs}\0${THUMBNAIL_SIZE}`).digest('hex').slice(0, 32);
  }

  async thumbnail(file: string): Promise<Buffer> {
    const key = await this.key(file);
    const cached = path.join(this.cacheDir, key.slice(0, 2), `${key}.jpg`);
    try {
      return await fs.promises.readFile(cached);
    } catch {
      // not cached yet
    }
    const running = this.inProgress.get(key);
    if (running) return running;
    const made = this.thumbnailLimiter.run(async () => {
      const bytes = await makeThumbnail(file, THUMBNAIL_SIZE);
      await fs.promises.mkdir(path.dirname(cached), { recursive: true });
      // Temporary name then rename: a reader never sees half a thumbnail. The cache needs no fsync.
      const tmp = `${cached}.${process.pid}.tmp`;
      await fs.promises.writeFile(tmp, bytes);
      await fs.promises.rename(tmp, cached);
      return bytes;
    });
    this.inProgress.set(key, made);
    try {
      return await made;
    } finally {
      this.inProgress.delete(key);
    }
  }

  /**
   * The picture for the viewer, upright. A photo the browser can show as it is (JPEG, PNG, WebP, GIF,
   * no EXIF rotation, not too large) is sent untouched, which is what makes a 12-MP photo appear at
   * once; anything else is converted once and kept for the last few images.
   */
  async display(file: string): Promise<{ bytes: Buffer; mimeType: string }> {
    const key = await this.key(file);
    let entry = this.displays.get(key);
    if (!entry) {
      entry = this.makeDisplay(file);
      this.displays.set(key, entry);
      entry.catch(() => this.displays.delete(key));
      while (this.displays.size > 8) this.displays.delete(this.displays.keys().next().value!);
    } else {
      // Most recently used last.
      this.displays.delete(key);
      this.displays.set(key, entry);
    }
    return entry;
  }

  private async makeDisplay(file: string): Promise<{ bytes: Buffer; mimeType: string }> {
    const bytes = await fs.promises.readFile(file);
    try {
      const meta = await sharp(bytes).metadata();
      if (meta.format && BROWSER_FORMATS.has(meta.format) && (meta.orientation ?? 1) === 1 && (meta.width ?? Infinity) <= DISPLAY_MAX_SIDE && (meta.height ?? Infinity) <= DISPLAY_MAX_SIDE && (meta.pages ?? 1) === 1) {
        return { bytes, mimeType: MIME[meta.format] };
      }
    } catch {
      // fall through: makeDisplayImage gives the reason
    }
    return { bytes: await makeDisplayImage(file, DISPLAY_MAX_SIDE), mimeType: 'image/jpeg' };
  }
}

/** Files written by exports, by a random id the browser build downloads them with. */
export class Downloads {
  private readonly byId = new Map<string, { file: string; fileName: string; mimeType: string }>();

  add(entry: { file: string; fileName: string; mimeType: string }): string {
    const id = `x${randomBytes(8).toString('hex')}`;
    this.byId.set(id, entry);
    return id;
  }

  get(id: string): { file: string; fileName: string; mimeType: string } | undefined {
    return this.byId.get(id);
  }
}

/** Media by kind and id: a photo's thumbnail or display copy, or an export's file. */
export class WorkspaceMedia {
  private readonly cache: MediaCache;

  constructor(
    private readonly images: ImageSet,
    readonly downloads: Downloads,
    dataDir: string,
    /** The precision-recall pictures of the last evaluation, by id. */
    private readonly plots: (id: string) => Buffer | undefined = () => undefined,
  ) {
    this.cache = new MediaCache(path.join(dataDir, 'thumbnails'));
  }

  async get(kind: MediaKind, id: string): Promise<MediaBytes | undefined> {
    if (kind === 'export') {
      const entry = this.downloads.get(id);
      if (!entry) return undefined;
      return { bytes: await fs.promises.readFile(entry.file), mimeType: entry.mimeType, fileName: entry.fileName };
    }
    if (kind === 'plot') {
      const png = this.plots(id);
      return png ? { bytes: png, mimeType: 'image/png' } : undefined;
    }
    const img = this.images.get(id);
    if (!img) return undefined;
    if (kind === 'thumbnail') return { bytes: await this.cache.thumbnail(img.file), mimeType: 'image/jpeg' };
    return this.cache.display(img.file);
  }
}
