// The answer of a path check (a real file, or an HTTP-like status and why) and the one test of
// containment, shared by the renderer's files (renderer-files.ts) and the desktop app's opened files.
import path from 'node:path';

export type Resolution = { ok: true; file: string } | { ok: false; status: 400 | 403 | 404; reason: string };

export const refuse = (status: 400 | 403 | 404, reason: string): Resolution => ({ ok: false, status, reason });

/** True when `child` is `parent` or lies inside it (both already absolute and normalized). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
