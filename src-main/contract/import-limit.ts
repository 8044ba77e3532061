/**
 * COCO files larger than this are refused before they are read: parsing one takes several times its
 * size in memory. 100 MB holds about half a million boxes; bigger sets can be split and imported in parts.
 * Shared by the service and the window, which refuses such a file before sending it.
 */
export const MAX_IMPORT_BYTES = 100 * 1024 * 1024;

export function importTooLarge(bytes: number): string | undefined {
  if (bytes <= MAX_IMPORT_BYTES) return undefined;
  return `the file is too large to import (${(bytes / 2 ** 20).toFixed(0)} MB; at most ${MAX_IMPORT_BYTES / 2 ** 20} MB): split it into smaller COCO files and import them one after another`;
}
