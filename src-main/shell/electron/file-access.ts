// Which files the renderer may read: only those the person opened (through a native dialog, a drop
// or the command line), or files inside a folder the person opened. Paths are compared after
// resolving symlinks, so a link inside an opened folder that points elsewhere is refused.
// Nothing here imports electron.
import fs from 'node:fs';
import path from 'node:path';
import { isInside, refuse, type Resolution } from '../common/path-guard.js';

/** A path the renderer sent: must be absolute, plain text, and free of `..` segments. */
function checkRequestedPath(requested: string): Resolution | undefined {
  if (typeof requested !== 'string' || requested.length === 0) return refuse(400, 'no file was named');
  if (requested.includes('\0')) return refuse(400, 'the file name contains a NUL character');
  if (requested.length > 4096) return refuse(400, 'the file name is too long');
  if (requested.split(/[\\/]/).includes('..')) return refuse(403, 'paths with ".." are not served');
  if (!path.isAbsolute(requested)) return refuse(400, 'only absolute paths of opened files are served');
  return undefined;
}

export class OpenedFiles {
  private readonly files = new Set<string>();
  private readonly folders = new Set<string>();

  /** Allows one file the person chose. Returns its real path. */
  grantFile(file: string): string {
    const real = fs.realpathSync(path.resolve(file));
    if (!fs.statSync(real).isFile()) throw new Error(`${file} is not a file`);
    this.files.add(real);
    return real;
  }

  /** Allows every file inside a folder the person chose (its real path, so links out stay out). */
  grantFolder(dir: string): string {
    const real = fs.realpathSync(path.resolve(dir));
    if (!fs.statSync(real).isDirectory()) throw new Error(`${dir} is not a folder`);
    this.folders.add(real);
    return real;
  }

  /** Grants a path the person chose, file or folder. */
  grant(p: string): string {
    return fs.statSync(p).isDirectory() ? this.grantFolder(p) : this.grantFile(p);
  }

  /** Grants each path that can be (one gone since it was chosen is left out); returns those granted. */
  grantAll(paths: string[]): string[] {
    return paths.filter((p) => {
      try {
        this.grant(p);
        return true;
      } catch {
        return false;
      }
    });
  }

  /** Forgets everything (a new workspace). */
  clear(): void {
    this.files.clear();
    this.folders.clear();
  }

  /** Whether a path (which must exist) is a file the person opened or lies in an opened folder. */
  isGranted(p: string): boolean {
    let real: string;
    try {
      real = fs.realpathSync(path.resolve(p));
    } catch {
      return false;
    }
    return this.allows(real);
  }

  private allows(real: string): boolean {
    if (this.files.has(real)) return true;
    for (const folder of this.folders) if (isInside(folder, real)) return true;
    return false;
  }

  /**
   * The real path of a file (or, with allowFolders, a folder) the renderer named, or why it is
   * refused: relative paths and `..` are refused before the disk is touched; then symlinks are
   * resolved and the real path must be an opened file or lie inside an opened folder.
   */
  async resolve(requested: string, options: { allowFolders?: boolean } = {}): Promise<Resolution> {
    const bad = checkRequestedPath(requested);
    if (bad) return bad;
    let real: string;
    try {
      real = await fs.promises.realpath(requested);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Not found and not allowed look the same from outside, so nothing leaks about other files.
      return code === 'ENOENT' || code === 'ENOTDIR' ? refuse(404, 'no such opened file') : refuse(403, 'this file cannot be read');
    }
    if (!this.allows(real)) return refuse(404, 'no such opened file');
    const stat = await fs.promises.stat(real);
    if (!stat.isFile() && !(options.allowFolders && stat.isDirectory())) return refuse(404, 'no such opened file');
    return { ok: true, file: real };
  }
}
