// What a drop brings in the browser build: files, and folders read recursively through the
// File and Directory Entries API, each with its path relative to what was dropped.

export interface UploadItem {
  file: File;
  /** Relative name with "/": "photo.jpg", or "folder/sub/photo.jpg" for a dropped folder. */
  name: string;
}

const IMAGE_NAME = /\.(jpe?g|jpe|jfif|png|webp|gif|tiff?|avif|heic|heif)$/i;

export function isImageName(name: string): boolean {
  return IMAGE_NAME.test(name);
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, prefix: string, items: UploadItem[], skipped: string[]): Promise<void> {
  // Hidden files and folders (.DS_Store, ._ forks, .fashion-detect) are not photos.
  if (entry.name.startsWith('.')) return;
  const name = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    if (isImageName(entry.name)) items.push({ file: await entryFile(entry as FileSystemFileEntry), name });
    else skipped.push(name);
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries returns at most 100 entries a call: read until it returns none.
    for (;;) {
      const batch = await readEntries(reader);
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, name, items, skipped);
    }
  }
}

export async function collectDroppedFiles(dataTransfer: DataTransfer): Promise<{ items: UploadItem[]; skipped: string[] }> {
  const items: UploadItem[] = [];
  const skipped: string[] = [];
  // Entries must be taken synchronously, before the drop event returns.
  const entries = Array.from(dataTransfer.items ?? [])
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.length > 0 && entries.every((e) => e !== null)) {
    for (const entry of entries) await walk(entry!, '', items, skipped);
  } else {
    for (const file of Array.from(dataTransfer.files)) {
      if (isImageName(file.name)) items.push({ file, name: file.name });
      else skipped.push(file.name);
    }
  }
  items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { items, skipped };
}
