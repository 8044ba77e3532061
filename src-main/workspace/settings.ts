// The app's settings file in its data folder: where the work is saved by default.
import fs from 'node:fs';
import path from 'node:path';
import type { SaveLocation } from '../contract/api.js';
import { writeFileAtomic } from '../core/base/atomic-write.js';

const settingsFile = (dataDir: string) => path.join(dataDir, 'settings.json');

/** The chosen location, 'beside-images' when none was chosen (or the file cannot be read). */
export function readSaveLocation(dataDir: string): SaveLocation {
  try {
    const raw = JSON.parse(fs.readFileSync(settingsFile(dataDir), 'utf8'));
    if (raw.saveLocation === 'app-data' || raw.saveLocation === 'beside-images') return raw.saveLocation;
  } catch {
    // no settings yet
  }
  return 'beside-images';
}

export function writeSaveLocation(dataDir: string, location: SaveLocation): void {
  writeFileAtomic(settingsFile(dataDir), JSON.stringify({ saveLocation: location }, null, 2));
}
