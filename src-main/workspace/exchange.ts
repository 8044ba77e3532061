// Exchange formats: exports of the labelled photos (COCO JSON, YOLO txt, Pascal VOC XML, built by
// core/formats) and the import of a COCO file onto the open photos.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, type ApiOutput, type ApiParsedInput, type DialogHost, type ExportFilter } from '../contract/api.js';
import { importTooLarge } from '../contract/import-limit.js';
import { writeFileAtomic } from '../core/base/atomic-write.js';
import { buildCocoDocument, type CocoDocument } from '../core/formats/coco.js';
import { exportedImages, type BoxFilter, type ExportFile, type LabelledImage } from '../core/formats/labelled-images.js';
import { buildVocExport } from '../core/formats/voc.js';
import { buildYoloExport } from '../core/formats/yolo.js';
import type { WorkspaceCategories } from './categories.js';
import { boxesAtPhotoSize, importCocoText } from './coco-import.js';
import { roundBbox, type BoxIds, type ImageRecord, type ImageSet } from './image-set.js';
import type { Labelling } from './labelling.js';
import type { Downloads } from './media.js';
import { modelTag, parseModelTag, type WorkspaceModel } from './model.js';
import type { NearDuplicates } from './near-duplicates.js';
import { requireDialogs } from './opening.js';

export interface ExchangeOptions {
  images: ImageSet;
  categories: WorkspaceCategories;
  labelling: Labelling;
  boxIds: BoxIds;
  downloads: Downloads;
  /** The model in use, named in an export's info. */
  model: WorkspaceModel;
  dataDir: string;
  dialogs?: DialogHost;
  /** Groups of near-duplicates, for exports that leave them out. */
  nearDuplicates: NearDuplicates;
}

/** The photos an export holds, and those left out. */
export interface ExportSet {
  images: LabelledImage[];
  /** Labelled photos the filter left out (verifiedOnly: not reviewed). */
  leftOut: number;
  /** Near-duplicates left out, where asked for. */
  nearDuplicatesLeftOut?: number;
}

/** The window's filter, as the formats take it. */
const toBoxFilter = (filter: ExportFilter): BoxFilter => ({ categoryIds: filter.categoryIds, minScore: filter.minScore, verifiedOnly: filter.verifiedOnly });

export class Exchange {
  constructor(private readonly options: ExchangeOptions) {}

  /** The photos an export may hold: labelled, with a known size. */
  private labelledImages(): LabelledImage[] {
    return [...this.options.images.all()]
      .filter((img) => img.state === 'done' && img.width && img.height)
      .map((img) => ({ name: img.name, width: img.width!, height: img.height!, boxes: img.boxes, ...(img.labelledBy ? { labelledBy: modelTag(img.labelledBy) } : {}) }));
  }

  /**
   * The photos an export holds: labelled, kept by the filter (verifiedOnly: reviewed), and with
   * leaveOutNearDuplicates only the kept photo of each group of near-duplicates among them.
   */
  async exportSet(filter: ExportFilter): Promise<ExportSet> {
    const labelled = this.labelledImages();
    if (labelled.length === 0) throw new ApiError('nothing to export yet: label some images first');
    let images = exportedImages(labelled, toBoxFilter(filter));
    if (images.length === 0) {
      throw new ApiError('no photo is reviewed yet, so an export of verified boxes only would be empty: accept the boxes of a photo (A) once they are right, or export without "Verified boxes only"');
    }
    const leftOut = labelled.length - images.length;
    if (!filter.leaveOutNearDuplicates) return { images, leftOut };
    const out = await this.options.nearDuplicates.leftOutAmong(images.map((i) => i.name));
    images = images.filter((i) => !out.has(i.name));
    return { images, leftOut, nearDuplicatesLeftOut: out.size };
  }

  /** The folder's name, as exports are named after it. */
  get baseName(): string {
    const home = this.options.images.home;
    return home ? path.basename(home) : 'images';
  }

  /** The COCO document of an export set, its info saying what was asked for. */
  cocoDocument(set: ExportSet, filter: ExportFilter): CocoDocument {
    const boxFilter = toBoxFilter(filter);
    return buildCocoDocument(
      set.images,
      this.options.categories.list,
      {
        description: `Fashion Detect labels for ${this.baseName}`,
        version: '1.0',
        model: this.options.model.tag,
        models: modelsUsed(set.images),
        date_created: new Date().toISOString(),
        filter: { categoryIds: filter.categoryIds ?? 'all', minScore: boxFilter.minScore, verifiedOnly: boxFilter.verifiedOnly, leaveOutNearDuplicates: filter.leaveOutNearDuplicates },
        ...(set.nearDuplicatesLeftOut !== undefined ? { near_duplicates_left_out: set.nearDuplicatesLeftOut } : {}),
      },
      { filter: boxFilter, roundScores: true },
    );
  }

  async exportAnnotations(input: ApiParsedInput<'exportAnnotations'>): Promise<ApiOutput<'exportAnnotations'>> {
    const { format } = input;
    const filter = toBoxFilter(input.filter);
    const set = await this.exportSet(input.filter);
    const base = this.baseName;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    const suggested = format === 'coco' ? `${base}.coco.json` : `${base}-${format}`;
    let target: string | null;
    if (this.options.dialogs) {
      target = await this.options.dialogs.chooseExportTarget(format, suggested);
      if (!target) return { cancelled: true, format, target: null, images: 0, annotations: 0, leftOut: 0, downloadId: null, fileName: null };
    } else {
      // Unique: two exports within a second must not share a file (each keeps its own download).
      target = path.join(this.options.dataDir, 'exports', `${stamp}-${randomBytes(3).toString('hex')}-${suggested}`);
    }
    const counted = { images: set.images.length, annotations: 0, leftOut: set.leftOut, ...(set.nearDuplicatesLeftOut !== undefined ? { nearDuplicatesLeftOut: set.nearDuplicatesLeftOut } : {}) };
    if (format === 'coco') {
      const doc = this.cocoDocument(set, input.filter);
      counted.annotations = doc.annotations.length;
      fs.mkdirSync(path.dirname(target), { recursive: true });
      writeFileAtomic(target, JSON.stringify(doc, null, 1));
    } else {
      const { files, annotations } = (format === 'yolo' ? buildYoloExport : buildVocExport)(set.images, this.options.categories.list, filter);
      counted.annotations = annotations;
      writeExportFolder(target, files);
    }
    const downloadId = format === 'coco' ? this.options.downloads.add({ file: target, fileName: suggested, mimeType: 'application/json' }) : null;
    return { cancelled: false, format, target, ...counted, downloadId, fileName: downloadId ? suggested : null };
  }

  async importCoco(input: ApiParsedInput<'importCoco'>): Promise<ApiOutput<'importCoco'>> {
    let text = input.text;
    let fileName = input.fileName;
    if (text === undefined) {
      const file = await requireDialogs(this.options.dialogs).chooseCocoFile();
      if (!file) return { cancelled: true, matched: 0, unmatched: 0, annotations: 0, problems: [] };
      text = await readImportFile(file);
      fileName = path.basename(file);
    }
    const { images } = this.options;
    const byName = new Map([...images.all()].map((img) => [img.name, img]));
    let imported: ReturnType<typeof importCocoText>;
    try {
      imported = importCocoText(text, [...byName.keys()], this.options.categories.list);
    } catch (err) {
      throw new ApiError(`could not import${fileName ? ` ${fileName}` : ''}: ${(err as Error).message}`);
    }
    // Everything was checked above; from here on nothing can fail, and the changes below reach the
    // journal in one record (one flush), so a crash keeps the whole import or none of it.
    for (const m of imported.matched) this.apply(byName.get(m.name)!, m);
    if (imported.matched.length === 0 && images.size > 0) imported.problems.unshift('no image of the file has the name of an open image');
    return { cancelled: false, matched: imported.matched.length, unmatched: imported.unmatched, annotations: imported.annotations, problems: imported.problems };
  }

  /** An imported photo's boxes replace its own; it needs no labelling any more. */
  private apply(img: ImageRecord, m: ReturnType<typeof importCocoText>['matched'][number]): void {
    img.boxes = boxesAtPhotoSize(m, img).map((b) => ({ id: this.options.boxIds.make(), categoryId: b.categoryId, score: b.score, verified: b.verified, bbox: roundBbox(b.bbox) }));
    img.width ??= m.width;
    img.height ??= m.height;
    // The file's boxes, not a model's of this workspace.
    img.labelledBy = undefined;
    img.state = 'done';
    img.reason = undefined;
    this.options.labelling.withdraw(img);
    this.options.images.changed(img);
  }
}

/** The models whose boxes the exported photos hold, with how many photos each labelled. */
function modelsUsed(images: readonly LabelledImage[]): { id: string; version: string; images: number }[] {
  const counts = new Map<string, number>();
  for (const img of images) if (img.labelledBy) counts.set(img.labelledBy, (counts.get(img.labelledBy) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([tag, n]) => ({ ...parseModelTag(tag)!, images: n }));
}

/** Writes an export's files under its folder (never outside it). */
function writeExportFolder(dir: string, files: ExportFile[]): void {
  const root = path.resolve(dir);
  for (const f of files) {
    const file = path.resolve(root, ...f.name.split('/'));
    if (path.relative(root, file).startsWith('..')) continue;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, f.content);
  }
}

/** A COCO file chosen in a dialog, its size checked before a byte of it is read. */
async function readImportFile(file: string): Promise<string> {
  const name = path.basename(file);
  try {
    const st = await fs.promises.stat(file);
    if (!st.isFile()) throw new ApiError(`could not import ${name}: not a file`);
    const tooLarge = importTooLarge(st.size);
    if (tooLarge) throw new ApiError(`could not import ${name}: ${tooLarge}`);
    return await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ApiError(`could not import ${name}: ${code === 'ENOENT' ? 'file not found' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message}`);
  }
}
