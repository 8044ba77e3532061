// Photos and folders named on the desktop app's command line (`npm start -- photos/`, a file
// manager's "Open with", a second launch). Nothing here imports electron.
import fs from 'node:fs';
import path from 'node:path';

/**
 * The existing paths among the arguments. Switches (which Chromium and test drivers put anywhere)
 * are skipped; run as `electron <app folder> ...` (not packaged) the first argument is the app itself.
 */
export function pathsFromArgv(argv: string[], cwd: string, packaged: boolean): string[] {
  const args = argv.slice(1).filter((a) => !a.startsWith('-'));
  if (!packaged) args.shift();
  return args.map((a) => path.resolve(cwd, a)).filter((p) => fs.existsSync(p));
}
