// The browser build: the same renderer and the same contract as the desktop app, over HTTP on
// 127.0.0.1 only. Routes:
//   GET  /, /assets/...      the built renderer (dist/renderer), with a strict CSP
//   POST /api/<method>       JSON in, ApiResult out (handleApiCall checks method and input)
//   GET  /api/events         Server-Sent Events (ApiEvent as JSON)
//   GET  /media/<kind>/<id>  thumbnails, display images and exports, by id only
//   POST /upload?name=a/b.jpg  raw bytes of a dropped file, written into the session's upload folder
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { handleApiCall, parseMediaPath, uploadNameSchema, type ApiEvent, type ApiService } from '../../contract/api.js';
import { CONTENT_SECURITY_POLICY } from '../../contract/content-security-policy.js';
import { isImagePath } from '../../core/images/decode.js';

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** Requests bigger than these are refused before they are read in full. */
const MAX_API_BODY = 300 * 1024 * 1024;
const MAX_UPLOAD = 300 * 1024 * 1024;

/** True when `file` is a plain file (not a link) with exactly these bytes. */
async function holdsBytes(file: string, bytes: Buffer): Promise<boolean> {
  const st = await fs.promises.lstat(file).catch(() => undefined);
  if (!st?.isFile() || st.size !== bytes.length) return false;
  return (await fs.promises.readFile(file)).equals(bytes);
}

/** The header every API and upload call carries: a cross-site page cannot send it without a preflight, which is never answered. */
export const CLIENT_HEADER = 'x-fashion-detect';

export interface WebServerOptions {
  service: ApiService;
  /** dist/renderer */
  rendererDir: string;
  /** Where uploads are written (the service's uploadsDir). */
  uploadsDir: string;
  port: number;
}

export interface WebServer {
  url: string;
  port: number;
  /** Passes an event to every open window. */
  broadcast(event: ApiEvent): void;
  close(): Promise<void>;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new HttpProblem(413, `the request is larger than ${Math.round(limit / 1024 / 1024)} MB`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpProblem(413, `the request is larger than ${Math.round(limit / 1024 / 1024)} MB`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

const sendJson = (res: http.ServerResponse, status: number, value: unknown) => send(res, status, JSON.stringify(value), 'application/json; charset=utf-8', { 'Cache-Control': 'no-store' });

export function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const clients = new Set<http.ServerResponse>();
  let origin = '';
  let hostHeaders = new Set<string>();

  /** Only this server's own pages may call it: the Host must be ours (no DNS rebinding) and so must any Origin. */
  function checkCaller(req: http.IncomingMessage, needsClientHeader: boolean): void {
    if (!hostHeaders.has(String(req.headers.host ?? ''))) throw new HttpProblem(421, 'this server answers only on 127.0.0.1');
    const from = req.headers.origin;
    if (from !== undefined && from !== origin) throw new HttpProblem(403, 'requests from other sites are refused');
    if (needsClientHeader && req.headers[CLIENT_HEADER] !== '1') throw new HttpProblem(403, `missing the ${CLIENT_HEADER} header`);
  }

  async function serveStatic(res: http.ServerResponse, pathname: string): Promise<void> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      throw new HttpProblem(400, 'bad URL encoding');
    }
    if (decoded.includes('\0') || decoded.includes('\\')) throw new HttpProblem(400, 'bad path');
    const parts = decoded.split('/').filter((p) => p && p !== '.');
    if (parts.includes('..')) throw new HttpProblem(403, 'paths with ".." are not served');
    const root = path.resolve(options.rendererDir);
    const file = path.join(root, parts.length ? parts.join('/') : 'index.html');
    let real: string;
    try {
      real = await fs.promises.realpath(file);
    } catch {
      if (parts.length === 0) throw new HttpProblem(500, `the renderer is not built (${root} is missing): run npm run build`);
      throw new HttpProblem(404, 'not found');
    }
    if (path.relative(await fs.promises.realpath(root), real).startsWith('..')) throw new HttpProblem(403, 'outside the app');
    const body = await fs.promises.readFile(real);
    const hashed = parts[0] === 'assets';
    send(res, 200, body, STATIC_TYPES[path.extname(real)] ?? 'application/octet-stream', { 'Cache-Control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache' });
  }

  async function handleUpload(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const name = uploadNameSchema.safeParse(url.searchParams.get('name') ?? '');
    if (!name.success) throw new HttpProblem(400, `bad upload name: ${name.error.issues[0].message}`);
    if (!isImagePath(name.data)) throw new HttpProblem(415, `${name.data} is not an image file (JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC)`);
    const body = await readBody(req, MAX_UPLOAD);
    const root = path.resolve(options.uploadsDir);
    const file = path.join(root, ...name.data.split('/'));
    if (path.relative(root, file).startsWith('..')) throw new HttpProblem(400, 'bad upload name');
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    // A folder in the way, or a link planted in the upload folder, must not redirect the write.
    const realParent = await fs.promises.realpath(path.dirname(file));
    if (path.relative(await fs.promises.realpath(root), realParent).startsWith('..')) throw new HttpProblem(400, 'bad upload name');
    const target = path.join(realParent, path.basename(file));
    // The same photo dropped again is left as it is, so the workspace keeps its boxes and corrections.
    if (await holdsBytes(target, body)) {
      sendJson(res, 200, { ok: true, name: name.data, bytes: body.length, unchanged: true });
      return;
    }
    const tmp = path.join(realParent, `.${path.basename(file)}.${process.pid}.${Date.now()}.upload`);
    await fs.promises.writeFile(tmp, body);
    await fs.promises.rename(tmp, target);
    sendJson(res, 200, { ok: true, name: name.data, bytes: body.length });
  }

  function openEvents(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    clients.add(res);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(ping);
      clients.delete(res);
    });
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = req.method ?? 'GET';
      try {
        if (url.pathname.startsWith('/api/')) {
          if (url.pathname === '/api/events' && method === 'GET') {
            checkCaller(req, false);
            openEvents(req, res);
            return;
          }
          if (method !== 'POST') throw new HttpProblem(405, 'API calls are POST');
          checkCaller(req, true);
          if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpProblem(415, 'API calls send JSON');
          const body = await readBody(req, MAX_API_BODY);
          let input: unknown;
          try {
            input = body.length ? JSON.parse(body.toString('utf8')) : {};
          } catch {
            throw new HttpProblem(400, 'the body is not JSON');
          }
          const result = await handleApiCall(options.service, decodeURIComponent(url.pathname.slice('/api/'.length)), input);
          const status = result.ok ? 200 : result.error.code === 'unknown-method' ? 404 : result.error.code === 'bad-input' ? 400 : 422;
          sendJson(res, status, result);
          return;
        }
        if (url.pathname === '/upload') {
          if (method !== 'POST') throw new HttpProblem(405, 'uploads are POST');
          checkCaller(req, true);
          await handleUpload(req, res, url);
          return;
        }
        if (url.pathname.startsWith('/media/')) {
          checkCaller(req, false);
          const media = parseMediaPath(url.pathname);
          if (!media) throw new HttpProblem(404, 'no such media');
          const found = await options.service.media(media.kind, media.id).catch((err: Error) => {
            throw new HttpProblem(422, err.message);
          });
          if (!found) throw new HttpProblem(404, 'no such image in this workspace');
          const headers: Record<string, string> = { 'Cache-Control': media.kind === 'thumbnail' ? 'private, max-age=3600' : 'no-cache' };
          if (found.fileName) headers['Content-Disposition'] = `attachment; filename="${found.fileName.replace(/[^A-Za-z0-9._-]/g, '_')}"`;
          send(res, 200, Buffer.from(found.bytes), found.mimeType, headers);
          return;
        }
        if (method !== 'GET' && method !== 'HEAD') throw new HttpProblem(405, 'not allowed');
        checkCaller(req, false);
        await serveStatic(res, url.pathname);
      } catch (err) {
        const status = err instanceof HttpProblem ? err.status : 500;
        const message = err instanceof Error ? err.message : String(err);
        if (!res.headersSent) sendJson(res, status, { ok: false, error: { code: 'http', message } });
        else res.end();
      }
    })();
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      const address = server.address() as import('node:net').AddressInfo;
      origin = `http://127.0.0.1:${address.port}`;
      hostHeaders = new Set([`127.0.0.1:${address.port}`, `localhost:${address.port}`]);
      resolve({
        url: `${origin}/`,
        port: address.port,
        broadcast(event) {
          const data = `data: ${JSON.stringify(event)}\n\n`;
          for (const client of clients) client.write(data);
        },
        close: () =>
          new Promise<void>((done) => {
            for (const client of clients) client.end();
            clients.clear();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
