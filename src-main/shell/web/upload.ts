// POST /upload?name=a/b.jpg: the raw bytes of a file dropped on the browser build's window, written
// into the session's upload folder (and nowhere else: no "..", no absolute names, no planted links).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { uploadNameSchema } from '../../contract/api.js';
import { isImagePath } from '../../core/images/decode.js';
import { isInside } from '../common/path-guard.js';
import { HttpProblem, readBody, sendJson } from './http-io.js';

/** Uploads bigger than this are refused before they are read in full. */
const MAX_UPLOAD = 300 * 1024 * 1024;

/** True when `file` is a plain file (not a link) with exactly these bytes. */
async function holdsBytes(file: string, bytes: Buffer): Promise<boolean> {
  const st = await fs.promises.lstat(file).catch(() => undefined);
  if (!st?.isFile() || st.size !== bytes.length) return false;
  return (await fs.promises.readFile(file)).equals(bytes);
}

/** The upload's name, checked against the contract and the image types the app reads. */
function uploadName(url: URL): string {
  const name = uploadNameSchema.safeParse(url.searchParams.get('name') ?? '');
  if (!name.success) throw new HttpProblem(400, `bad upload name: ${name.error.issues[0].message}`);
  if (!isImagePath(name.data)) throw new HttpProblem(415, `${name.data} is not an image file (JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC)`);
  return name.data;
}

/** The real folder the upload goes into, made if need be; refused when it would leave `uploadsDir`. */
async function uploadFolder(uploadsDir: string, name: string): Promise<{ dir: string; base: string }> {
  const root = path.resolve(uploadsDir);
  const file = path.join(root, ...name.split('/'));
  if (!isInside(root, file)) throw new HttpProblem(400, 'bad upload name');
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  // A folder in the way, or a link planted in the upload folder, must not redirect the write.
  const realParent = await fs.promises.realpath(path.dirname(file));
  if (!isInside(await fs.promises.realpath(root), realParent)) throw new HttpProblem(400, 'bad upload name');
  return { dir: realParent, base: path.basename(file) };
}

export async function handleUpload(req: http.IncomingMessage, res: http.ServerResponse, url: URL, uploadsDir: string): Promise<void> {
  const name = uploadName(url);
  const body = await readBody(req, MAX_UPLOAD);
  const { dir, base } = await uploadFolder(uploadsDir, name);
  const target = path.join(dir, base);
  // The same photo dropped again is left as it is, so the workspace keeps its boxes and corrections.
  if (await holdsBytes(target, body)) {
    sendJson(res, 200, { ok: true, name, bytes: body.length, unchanged: true });
    return;
  }
  const tmp = path.join(dir, `.${base}.${process.pid}.${Date.now()}.upload`);
  await fs.promises.writeFile(tmp, body);
  await fs.promises.rename(tmp, target);
  sendJson(res, 200, { ok: true, name, bytes: body.length });
}
