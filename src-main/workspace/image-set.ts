// The open photos: one record each (its file, state and boxes), found by id or by file, named
// relative to the workspace's home folder, and what every part does when it changes one.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, type ApiEvent, type Box, type ImageDetail, type ImageState, type ImageSummary } from '../contract/api.js';
import { FileProblem } from '../core/base/errors.js';
import type { PhotoHash } from '../core/dedupe/phash.js';
import { readImageInfo } from '../core/images/decode.js';
import { toPosix } from '../core/images/walk.js';
import { modelTag, type ModelRef } from './model.js';

export interface ImageRecord {
  id: string;
  /** Real absolute path: read only by the service, never sent to the renderer. */
  file: string;
  name: string;
  state: ImageState;
  reason?: string;
  width?: number;
  height?: number;
  boxes: Box[];
  revision: number;
  size?: number;
  mtimeMs?: number;
  /** For a failed image: its file as it was when it failed (see fileSignature), so Label all retries it once it changes. */
  failedAs?: string;
  /** The model whose boxes these are (the last one that labelled the photo), where known. */
  labelledBy?: ModelRef;
  /** The picture's perceptual hashes, for the near-duplicates: from the detector, or hashed from the file when asked for. */
  hash?: PhotoHash;
}

/** Size and times of a file (ctime catches a change of permissions), or why it cannot be looked at. */
export function fileSignature(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch (err) {
    return `unreadable:${(err as NodeJS.ErrnoException).code ?? ''}`;
  }
}

/** Where a changed record is kept: the saving part. */
export interface RecordKeeper {
  /** The record has work to save. */
  markDirty(img: ImageRecord): void;
  /** The record's saved work is to be dropped (it is back to pending). */
  forget(img: ImageRecord): void;
}

/** Box ids the service gives (the renderer may make its own): unique to this run, so never those of a saved box. */
export class BoxIds {
  private readonly prefix = `b${randomBytes(3).toString('hex')}`;
  private next = 1;

  make(): string {
    return `${this.prefix}_${this.next++}`;
  }
}

/** Boxes are kept to 1/100 pixel and scores to 4 decimals. */
export const roundBbox = (bbox: readonly number[]): Box['bbox'] => bbox.map((v) => Math.round(v * 100) / 100) as Box['bbox'];
export const roundScore = (score: number): number => Math.round(score * 10000) / 10000;

export class ImageSet {
  private readonly byId = new Map<string, ImageRecord>();
  private readonly byFile = new Map<string, ImageRecord>();
  private nextImage = 1;
  /** The folder the work belongs to (first folder opened, or the folder of the first images). */
  home: string | null = null;

  constructor(
    private readonly emit: (event: ApiEvent) => void,
    private readonly keeper: RecordKeeper,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  all(): IterableIterator<ImageRecord> {
    return this.byId.values();
  }

  get(id: string): ImageRecord | undefined {
    return this.byId.get(id);
  }

  /** The record of an id the window sent, or an error the person can read. */
  require(id: string): ImageRecord {
    const img = this.byId.get(id);
    if (!img) throw new ApiError(`no image ${id} in this workspace (it may have been closed)`);
    return img;
  }

  atFile(realPath: string): ImageRecord | undefined {
    return this.byFile.get(realPath);
  }

  /** A new pending record for a file, in the set. */
  add(realPath: string, st: fs.Stats | undefined): ImageRecord {
    const img: ImageRecord = { id: `i${this.nextImage++}`, file: realPath, name: this.nameFor(realPath), state: 'pending', boxes: [], revision: 0, size: st?.size, mtimeMs: st?.mtimeMs };
    this.byId.set(img.id, img);
    this.byFile.set(realPath, img);
    return img;
  }

  /** Empties the set (ids go on counting, so a late reply cannot land on another photo). */
  clear(): void {
    this.byId.clear();
    this.byFile.clear();
    this.home = null;
  }

  /** A name relative to the home folder with "/", or the absolute path for images outside it. */
  nameFor(file: string): string {
    if (this.home) {
      const rel = path.relative(this.home, file);
      if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return toPosix(rel);
    }
    return toPosix(file);
  }

  summary(img: ImageRecord): ImageSummary {
    return {
      id: img.id,
      name: img.name,
      state: img.state,
      ...(img.reason ? { reason: img.reason } : {}),
      count: img.boxes.length,
      ...(img.width ? { width: img.width, height: img.height } : {}),
      ...(img.labelledBy ? { model: modelTag(img.labelledBy) } : {}),
    };
  }

  detail(img: ImageRecord): ImageDetail {
    return { ...this.summary(img), boxes: img.boxes.map((b) => ({ ...b, bbox: [...b.bbox] as Box['bbox'] })), revision: img.revision };
  }

  /** One image's detail; its upright size is read first if not known yet (a file that cannot be read fails). */
  async readDetail(id: string): Promise<ImageDetail> {
    const img = this.require(id);
    if (!img.width && img.state !== 'failed') {
      // The viewer needs the upright size to place boxes, before the detector has seen the picture.
      try {
        const info = await readImageInfo(img.file);
        img.width = info.width;
        img.height = info.height;
      } catch (err) {
        if (img.state === 'pending') {
          img.state = 'failed';
          img.reason = err instanceof FileProblem ? err.reason : (err as Error).message;
          img.failedAs = fileSignature(img.file);
          this.changed(img);
        }
      }
    }
    return this.detail(img);
  }

  /** Tells the window a record's state or boxes are new. */
  announce(img: ImageRecord): void {
    this.emit({ type: 'image', image: this.summary(img), revision: img.revision });
  }

  /** A record's state or boxes changed: a new revision, saved, and told to the window. */
  changed(img: ImageRecord): void {
    img.revision++;
    this.keeper.markDirty(img);
    this.announce(img);
  }

  /** The file changed under an open record (uploaded again): its boxes no longer belong to it, so it is pending again. */
  replaced(img: ImageRecord, st: fs.Stats): void {
    img.size = st.size;
    img.mtimeMs = st.mtimeMs;
    img.boxes = [];
    img.width = img.height = undefined;
    img.reason = undefined;
    img.labelledBy = undefined;
    img.hash = undefined;
    img.state = 'pending';
    img.revision++;
    this.keeper.forget(img);
    this.announce(img);
  }
}
