// Which file of the built renderer (dist/renderer) a URL path names, for both transports: `/` is
// index.html; anything that would leave the folder (encoded `..`, backslashes, absolute paths,
// symlinks pointing out) is refused, and so is anything that is not a plain file.
import fs from 'node:fs';
import path from 'node:path';
import { isInside, refuse, type Resolution } from './path-guard.js';

/** The folder's parts of a URL path, or why the path is refused before the disk is touched. */
function urlPathParts(urlPathname: string): string[] | Resolution {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPathname);
  } catch {
    return refuse(400, 'the path is not valid URL encoding');
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return refuse(400, 'the path contains characters that are not allowed');
  const parts = decoded.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return refuse(403, 'paths with ".." are not served');
  return parts;
}

/** The real path of the renderer's file for a URL path, or why it is not served. */
export async function resolveRendererAsset(rendererDir: string, urlPathname: string): Promise<Resolution> {
  const parts = urlPathParts(urlPathname);
  if (!Array.isArray(parts)) return parts;
  const root = await fs.promises.realpath(rendererDir).catch(() => undefined);
  if (!root) return refuse(404, `the renderer is not built (${rendererDir} is missing): run npm run build`);
  let real: string;
  try {
    real = await fs.promises.realpath(path.join(root, parts.length === 0 ? 'index.html' : parts.join('/')));
  } catch {
    return refuse(404, 'not found');
  }
  if (!isInside(root, real)) return refuse(403, 'outside the app');
  const stat = await fs.promises.stat(real);
  if (!stat.isFile()) return refuse(404, 'not found');
  return { ok: true, file: real };
}
