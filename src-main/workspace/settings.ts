// The app's settings file in its data folder: where the work is saved by default, and the model
// chosen in the window. Each writer changes its own key and keeps the others.
import fs from 'node:fs';
import path from 'node:path';
import type { SaveLocation } from '../contract/api.js';
import { writeFileAtomic } from '../core/base/atomic-write.js';

const settingsFile = (dataDir: string) => path.join(dataDir, 'settings.json');

interface Settings {
  saveLocation?: SaveLocation;
  /** The model id chosen with setModel. */
  model?: string;
}

function readSettings(dataDir: string): Settings {
  try {
    const raw = JSON.parse(fs.readFileSync(settingsFile(dataDir), 'utf8'));
    return raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {};
  } catch {
    return {}; // no settings yet
  }
}

function writeSettings(dataDir: string, change: Settings): void {
  writeFileAtomic(settingsFile(dataDir), JSON.stringify({ ...readSettings(dataDir), ...change }, null, 2));
}

/** The chosen location, 'beside-images' when none was chosen (or the file cannot be read). */
export function readSaveLocation(dataDir: string): SaveLocation {
  const location = readSettings(dataDir).saveLocation;
  return location === 'app-data' || location === 'beside-images' ? location : 'beside-images';
}

export function writeSaveLocation(dataDir: string, location: SaveLocation): void {
  writeSettings(dataDir, { saveLocation: location });
}

/** The model chosen in the window last time, if any. */
export function readChosenModel(dataDir: string): string | undefined {
  const model = readSettings(dataDir).model;
  return typeof model === 'string' && model ? model : undefined;
}

export function writeChosenModel(dataDir: string, id: string): void {
  writeSettings(dataDir, { model: id });
}
