// Bringing photos in: the desktop app's dialogs and dropped paths, the browser build's file
// pickers and drops (uploaded first, four files at a time), and the message that says what came of it.
import { call, pathsForFiles, transport, uploadFile, type OpenResult } from '../api';
import { messages } from '../state/messages.svelte';
import { collectDroppedFiles, isImageName, type UploadItem } from './drop';

/** At most this many uploads at once. */
const UPLOADS_AT_ONCE = 4;

function reportOpen(result: OpenResult): void {
  if (result.cancelled) return;
  const parts = [`${result.added} image${result.added === 1 ? '' : 's'} added`];
  if (result.restored) parts.push(`${result.restored} with saved work`);
  if (result.alreadyOpen) parts.push(`${result.alreadyOpen} already open`);
  if (result.replaced) parts.push(`${result.replaced} replaced by a different file of the same name: ${result.replaced === 1 ? 'its boxes were' : 'their boxes were'} cleared and labelled again`);
  // Saved work with photos still to label: a batch that was cancelled or cut short by a crash.
  if (result.restored && result.waiting) parts.push(`${result.waiting} still to label: Label all goes on from there`);
  if (result.problems.length) {
    messages.notify('error', `${parts.join(', ')}; ${result.problems.length} could not be opened`, result.problems.map((p) => `${p.file}: ${p.reason}`));
  } else {
    messages.notify('info', parts.join(', '));
  }
}

async function openWith(request: () => Promise<OpenResult>): Promise<void> {
  try {
    reportOpen(await request());
  } catch (err) {
    messages.report(err);
  }
}

export class Opening {
  /** Upload progress in the browser build; null when none runs. */
  uploading = $state.raw<{ done: number; total: number } | null>(null);

  /** The desktop app's native dialogs. */
  openImagesDialog = () => openWith(() => call('openImagesDialog', {}));
  openFolderDialog = () => openWith(() => call('openFolderDialog', {}));

  /** Files from a file input (browser build); `webkitRelativePath` keeps a chosen folder's structure. */
  async openPickedFiles(files: FileList | File[]): Promise<void> {
    const all = Array.from(files).map((file) => ({ file, name: file.webkitRelativePath || file.name }));
    // A chosen folder brings every file in it: only images are sent, hidden files not at all.
    const visible = all.filter((item) => !item.name.split('/').some((part) => part.startsWith('.')));
    const items: UploadItem[] = visible.filter((item) => isImageName(item.name));
    const skipped = visible.filter((item) => !isImageName(item.name)).map((item) => item.name);
    if (items.length === 0) {
      messages.notify('error', skipped.length ? `No images among the ${skipped.length} files chosen` : 'Nothing was chosen');
      return;
    }
    await this.upload(items, skipped);
  }

  /** A drop on the window: paths in the desktop app, uploads in the browser build. */
  async openDropped(dataTransfer: DataTransfer): Promise<void> {
    if (transport === 'desktop') {
      const paths = pathsForFiles(Array.from(dataTransfer.files));
      if (paths.length > 0) await openWith(() => call('openPaths', { paths }));
      return;
    }
    const { items, skipped } = await collectDroppedFiles(dataTransfer);
    if (items.length === 0) {
      messages.notify('error', skipped.length ? `No images in what was dropped (${skipped.length} other files)` : 'Nothing to open in what was dropped');
      return;
    }
    await this.upload(items, skipped);
  }

  private async upload(items: UploadItem[], skipped: string[] = []): Promise<void> {
    const problems = skipped.map((name) => ({ file: name, reason: 'not an image file' }));
    const names: string[] = [];
    this.uploading = { done: 0, total: items.length };
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++];
        try {
          await uploadFile(item.name, item.file);
          names.push(item.name);
        } catch (err) {
          problems.push({ file: item.name, reason: (err as Error).message });
        }
        this.uploading = { done: (this.uploading?.done ?? 0) + 1, total: items.length };
      }
    };
    await Promise.all(Array.from({ length: Math.min(UPLOADS_AT_ONCE, items.length) }, worker));
    this.uploading = null;
    if (names.length === 0) {
      messages.notify('error', 'Nothing could be opened', problems.map((p) => `${p.file}: ${p.reason}`));
      return;
    }
    names.sort();
    await openWith(async () => {
      const result = await call('openUploads', { names });
      return { ...result, problems: [...result.problems, ...problems] };
    });
  }
}

export const opening = new Opening();
