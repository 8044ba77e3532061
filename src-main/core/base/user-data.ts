import os from 'node:os';
import path from 'node:path';

/** The app's name as Electron derives its data folder from it (package.json's name). */
const APP_FOLDER = 'fashion-detect';

/**
 * The app's data folder, where models trained in the app and added model folders are kept, so the
 * command line sees them too: FASHION_DETECT_USER_DATA where set (the desktop app then uses it as
 * well), else the folder Electron's app.getPath('userData') gives this app on each platform.
 */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.FASHION_DETECT_USER_DATA) return path.resolve(env.FASHION_DETECT_USER_DATA);
  const home = os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', APP_FOLDER);
  if (platform === 'win32') return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), APP_FOLDER);
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), APP_FOLDER);
}

/** Models trained in the app: one model folder each, as models/ holds them. */
export function userModelsDir(dataDir = userDataDir()): string {
  return path.join(dataDir, 'models');
}

/** The list of model folders added with "Add model folder…". */
export function modelFoldersFile(dataDir = userDataDir()): string {
  return path.join(dataDir, 'model-folders.json');
}
