// Boxes in and out: export (COCO, YOLO, Pascal VOC) with what the filters show, and COCO import.
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

  /** Exports; in the browser build the answer names the download. */
  async exportAs(format: ExportFormat): Promise<{ downloadId: string | null; fileName: string | null } | undefined> {
    const categoryIds = this.onlyChecked ? sync.categories.filter((c) => filters.isChecked(c.id)).map((c) => c.id) : undefined;
    try {
      const result = await call('exportAnnotations', {
        format,
        filter: { categoryIds, minScore: this.useMinScore ? (filters.minScore ?? 0) : 0, verifiedOnly: this.verifiedOnly },
      });
      if (result.cancelled) return undefined;
      const where = result.target && transport === 'desktop' ? ` to ${result.target}` : result.downloadId ? '' : ` to ${result.target}`;
      const leftOut = result.leftOut > 0 ? `; ${result.leftOut} labelled ${result.leftOut === 1 ? 'photo was' : 'photos were'} left out, not yet reviewed (Show: To review)` : '';
      messages.notify('info', `${FORMAT_NAMES[format]}: ${result.annotations} boxes in ${result.images} images exported${where}${leftOut}`);
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
