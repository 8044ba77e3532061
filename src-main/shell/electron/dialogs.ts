// The native dialogs the workspace service asks for (its DialogHost). What the person chooses
// becomes readable by the renderer (granted in OpenedFiles); nothing else does.
import type { DialogHost, ExportFormat } from '../../contract/api.js';
import { IMAGE_EXTENSIONS } from '../../core/images/decode.js';
import type { BrowserWindow, Dialog } from './electron-api.js';
import type { OpenedFiles } from './file-access.js';

type OpenResult = { canceled: boolean; filePaths: string[] };

/** The first chosen path, or null when cancelled. */
const firstChosen = (r: OpenResult): string | null => (r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0]);

/** Dialogs attached to the window (none while there is no window: the answer is "cancelled"). */
export function createDialogHost(dialog: Dialog, currentWindow: () => BrowserWindow | undefined, grants: OpenedFiles): DialogHost {
  return {
    async chooseImages() {
      const window = currentWindow();
      if (!window) return [];
      const extensions = [...IMAGE_EXTENSIONS].map((e) => e.replace(/^\./, ''));
      const filters = [{ name: 'Images', extensions }, { name: 'All files', extensions: ['*'] }];
      const r = await dialog.showOpenDialog(window, { title: 'Open Images', properties: ['openFile', 'multiSelections'], filters });
      return r.canceled ? [] : grants.grantAll(r.filePaths);
    },
    async chooseFolder() {
      const window = currentWindow();
      if (!window) return null;
      const folder = firstChosen(await dialog.showOpenDialog(window, { title: 'Open Folder', properties: ['openDirectory'] }));
      return folder === null ? null : (grants.grantAll([folder])[0] ?? null);
    },
    async chooseCocoFile() {
      const window = currentWindow();
      if (!window) return null;
      return firstChosen(await dialog.showOpenDialog(window, { title: 'Import COCO', properties: ['openFile'], filters: [{ name: 'COCO JSON', extensions: ['json'] }] }));
    },
    async chooseModelFolder() {
      const window = currentWindow();
      if (!window) return null;
      const title = 'Add model folder: an Ultralytics tfjs export (model.json, metadata.yaml) or a Fashion Detect model folder';
      return firstChosen(await dialog.showOpenDialog(window, { title, buttonLabel: 'Add model', properties: ['openDirectory'] }));
    },
    async chooseSplitFolder(suggestedName: string) {
      const window = currentWindow();
      if (!window) return null;
      const title = `Export train.json and val.json into a folder (for example ${suggestedName})`;
      return firstChosen(await dialog.showOpenDialog(window, { title, buttonLabel: 'Export here', properties: ['openDirectory', 'createDirectory'] }));
    },
    async chooseExportTarget(format: ExportFormat, suggestedName: string) {
      const window = currentWindow();
      if (!window) return null;
      if (format === 'coco') {
        const r = await dialog.showSaveDialog(window, {
          title: 'Export COCO',
          defaultPath: suggestedName,
          filters: [{ name: 'COCO JSON', extensions: ['json'] }],
          properties: ['createDirectory', 'showOverwriteConfirmation'],
        });
        return r.canceled || !r.filePath ? null : r.filePath;
      }
      const title = `Export ${format.toUpperCase()} into a folder`;
      return firstChosen(await dialog.showOpenDialog(window, { title, buttonLabel: 'Export here', properties: ['openDirectory', 'createDirectory'] }));
    },
  };
}
