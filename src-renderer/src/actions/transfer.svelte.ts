// Boxes in and out: export (COCO, YOLO, Pascal VOC) with what the filters show, near-duplicates left
// out or not, split into training and validation files or not, and COCO import.
import { importTooLarge } from '$contract/import-limit';
import { call, transport, type ExportFormat } from '../api';
import { filters } from '../state/filters.svelte';
import { messages } from '../state/messages.svelte';
import { sync } from '../state/sync.svelte';

const FORMAT_NAMES: Record<ExportFormat, string> = { coco: 'COCO', yolo: 'YOLO', voc: 'Pascal VOC' };

export class Transfer {
  /** What an export keeps, beyond the format: the export panel's options. */
  onlyChecked = $state(true);
  useMinScore = $state(true);
  verifiedOnly = $state(false);
  /** Of each group of near-duplicates, only the kept photo. */
  leaveOutNearDuplicates = $state(false);
  /** Export COCO writes train and validation files, every group of near-duplicates on one side. */
  split = $state(false);
  /** The validation share of a split. */
  valShare = $state(0.15);

  private filter() {
    const categoryIds = this.onlyChecked ? sync.categories.filter((c) => filters.isChecked(c.id)).map((c) => c.id) : undefined;
    return { categoryIds, minScore: this.useMinScore ? (filters.minScore ?? 0) : 0, verifiedOnly: this.verifiedOnly, leaveOutNearDuplicates: this.leaveOutNearDuplicates };
  }

  private static leftOutText(leftOut: number, nearDuplicates: number | undefined): string {
    const unreviewed = leftOut > 0 ? `; ${leftOut} labelled ${leftOut === 1 ? 'photo was' : 'photos were'} left out, not yet reviewed (Show: To review)` : '';
    const copies = nearDuplicates ? `; ${nearDuplicates} near-${nearDuplicates === 1 ? 'duplicate' : 'duplicates'} left out (Show: Near-duplicates)` : '';
    return unreviewed + copies;
  }

  /** The split export: train and validation COCO files; in the browser build both downloads. */
  async exportSplit(): Promise<{ downloadId: string | null; fileName: string | null }[]> {
    const val = Math.min(0.95, Math.max(0.01, Number(this.valShare) || 0.15));
    try {
      const result = await call('exportSplit', { filter: this.filter(), val });
      if (result.cancelled) return [];
      const where = transport === 'desktop' && result.target ? ` to ${result.target}` : '';
      const groups = result.groups > 0 ? `, ${result.groups} ${result.groups === 1 ? 'group' : 'groups'} of near-duplicates each on one side` : '';
      messages.notify('info', `Split: ${result.train.images} photos for training, ${result.val.images} for validation (${result.train.annotations + result.val.annotations} boxes)${groups}${where}${Transfer.leftOutText(result.leftOut, result.nearDuplicatesLeftOut || undefined)}`);
      return [result.train, result.val];
    } catch (err) {
      messages.report(err);
      return [];
    }
  }

  /** Exports; in the browser build the answer names the download. */
  async exportAs(format: ExportFormat): Promise<{ downloadId: string | null; fileName: string | null } | undefined> {
    try {
      const result = await call('exportAnnotations', { format, filter: this.filter() });
      if (result.cancelled) return undefined;
      const where = result.target && transport === 'desktop' ? ` to ${result.target}` : result.downloadId ? '' : ` to ${result.target}`;
      messages.notify('info', `${FORMAT_NAMES[format]}: ${result.annotations} boxes in ${result.images} images exported${where}${Transfer.leftOutText(result.leftOut, result.nearDuplicatesLeftOut)}`);
      return { downloadId: result.downloadId, fileName: result.fileName };
    } catch (err) {
      messages.report(err);
      return undefined;
    }
  }

  /** Imports a COCO file: the one given (browser build), or one chosen in a dialog (desktop app). */
  async importCoco(file?: File): Promise<void> {
    // Refused here, before a huge file is read and sent, with the service's own words.
    const tooLarge = file ? importTooLarge(file.size) : undefined;
    if (file && tooLarge) {
      messages.notify('error', `could not import ${file.name}: ${tooLarge}`);
      return;
    }
    try {
      const text = file ? await file.text() : undefined;
      const result = await call('importCoco', text === undefined ? {} : { text, fileName: file?.name });
      if (result.cancelled) return;
      const summary = `Imported ${result.annotations} boxes for ${result.matched} images${result.unmatched ? `; ${result.unmatched} images of the file are not open` : ''}`;
      messages.notify(result.problems.length ? 'error' : 'info', summary, result.problems);
      await sync.refreshCurrent();
    } catch (err) {
      messages.report(err);
    }
  }
}

export const transfer = new Transfer();
