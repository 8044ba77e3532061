// The export's "Split train/validation": the photos an export would hold, split into train.json and
// val.json with every group of near-duplicates on one side (core/dedupe's splitCoco), so a model is
// never measured on a copy of a photo it learnt from. The desktop app writes both into a folder the
// person chooses; the browser build downloads both.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, type ApiOutput, type ApiParsedInput, type DialogHost } from '../contract/api.js';
import { writeFileAtomic } from '../core/base/atomic-write.js';
import { splitCoco } from '../core/dedupe/split.js';
import type { CocoDocument } from '../core/formats/coco.js';
import type { Exchange } from './exchange.js';
import type { Downloads } from './media.js';
import type { NearDuplicates } from './near-duplicates.js';

export interface SplitExportOptions {
  exchange: Exchange;
  nearDuplicates: NearDuplicates;
  downloads: Downloads;
  dataDir: string;
  dialogs?: DialogHost;
}

type SplitResult = ApiOutput<'exportSplit'>;
const NO_PART = { images: 0, annotations: 0, downloadId: null, fileName: null };

export class SplitExport {
  constructor(private readonly options: SplitExportOptions) {}

  async exportSplit(input: ApiParsedInput<'exportSplit'>): Promise<SplitResult> {
    const { exchange, nearDuplicates } = this.options;
    const set = await exchange.exportSet(input.filter);
    if (set.images.length < 2) throw new ApiError(`a split needs two photos or more, and the export holds ${set.images.length}`);
    const groups = await nearDuplicates.groupsAmong(set.images.map((i) => i.name));
    const { train, val } = splitCoco(exchange.cocoDocument(set, input.filter), groups, input.val, input.seed);
    if (val.images.length === 0) {
      throw new ApiError(`no validation photos: the ${set.images.length} photos are near-duplicates of each other in groups larger than a share of ${input.val} (${Math.round(set.images.length * input.val)} photos); choose a larger share`);
    }
    const base = exchange.baseName;
    const folder = await this.chooseFolder(`${base}-split`);
    if (!folder) return { cancelled: true, target: null, train: NO_PART, val: NO_PART, leftOut: 0, nearDuplicatesLeftOut: 0, groups: 0 };
    fs.mkdirSync(folder, { recursive: true });
    const part = (doc: CocoDocument, name: 'train' | 'val') => {
      const file = path.join(folder, `${name}.json`);
      writeFileAtomic(file, JSON.stringify(doc, null, 1));
      const fileName = `${base}.${name}.coco.json`;
      const downloadId = this.options.downloads.add({ file, fileName, mimeType: 'application/json' });
      return { images: doc.images.length, annotations: doc.annotations.length, downloadId, fileName };
    };
    return {
      cancelled: false,
      target: folder,
      train: part(train, 'train'),
      val: part(val, 'val'),
      leftOut: set.leftOut,
      nearDuplicatesLeftOut: set.nearDuplicatesLeftOut ?? 0,
      groups: groups.filter((g) => g.length > 1).length,
    };
  }

  /** The desktop app's folder dialog; in the browser build a folder of its own under the exports. */
  private async chooseFolder(suggested: string): Promise<string | null> {
    const { dialogs } = this.options;
    if (dialogs) {
      if (!dialogs.chooseSplitFolder) throw new ApiError('this app cannot ask for a folder to write a split export to');
      return dialogs.chooseSplitFolder(suggested);
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    return path.join(this.options.dataDir, 'exports', `${stamp}-${randomBytes(3).toString('hex')}-${suggested}`);
  }
}
