// The browser build: the same renderer and the same contract as the desktop app, over HTTP on
// 127.0.0.1 only. Routes:
//   GET  /, /assets/...        the built renderer (dist/renderer), with a strict CSP  } common/app-requests.ts,
//   GET  /media/<kind>/<id>    thumbnails, display images and exports, by id only    } as the desktop scheme
//   POST /api/<method>         JSON in, ApiResult out (handleApiCall checks method and input)
//   GET  /api/events           Server-Sent Events (ApiEvent as JSON)
//   POST /upload?name=a/b.jpg  raw bytes of a dropped file, written into the session's upload folder
// Every route first checks its caller (Host, Origin and, for calls that act, the client header).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleApiCall, type ApiEvent, type ApiService } from '../../contract/api.js';
import { serveAppRequest, type AppContent } from '../common/app-requests.js';
import { checkedEvent } from '../common/events.js';
import { SECURITY_HEADERS } from '../common/security-headers.js';
import { HttpProblem, readBody, sendAppResponse, sendJson } from './http-io.js';
import { handleUpload } from './upload.js';

/** The header every API and upload call carries: a cross-site page cannot send it without a preflight, which is never answered. */
export const CLIENT_HEADER = 'x-fashion-detect';

/** API calls bigger than this are refused before they are read in full. */
const MAX_API_BODY = 300 * 1024 * 1024;

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
  /** Passes an event to every open window (when it is inside the contract). */
  broadcast(event: ApiEvent): void;
  close(): Promise<void>;
}

/** Who may call: this server's own pages, known once it listens. */
class CallerGuard {
  private origin = '';
  private hosts = new Set<string>();

  listening(port: number): string {
    this.origin = `http://127.0.0.1:${port}`;
    this.hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
    return this.origin;
  }

  /** The Host must be ours (no DNS rebinding) and so must any Origin; calls that act carry the client header. */
  check(req: http.IncomingMessage, needsClientHeader: boolean): void {
    if (!this.hosts.has(String(req.headers.host ?? ''))) throw new HttpProblem(421, 'this server answers only on 127.0.0.1');
    const from = req.headers.origin;
    if (from !== undefined && from !== this.origin) throw new HttpProblem(403, 'requests from other sites are refused');
    if (needsClientHeader && req.headers[CLIENT_HEADER] !== '1') throw new HttpProblem(403, `missing the ${CLIENT_HEADER} header`);
  }
}

/** The windows listening on /api/events. */
class EventStream {
  private readonly clients = new Set<http.ServerResponse>();

  open(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(ping);
      this.clients.delete(res);
    });
  }

  broadcast(event: ApiEvent): void {
    const checked = checkedEvent(event);
    if (!checked) return;
    const data = `data: ${JSON.stringify(checked)}\n\n`;
    for (const client of this.clients) client.write(data);
  }

  closeAll(): void {
    for (const client of this.clients) client.end();
    this.clients.clear();
  }
}

async function answerApiCall(req: http.IncomingMessage, res: http.ServerResponse, service: ApiService, pathname: string): Promise<void> {
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpProblem(415, 'API calls send JSON');
  const body = await readBody(req, MAX_API_BODY);
  let input: unknown;
  try {
    input = body.length ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    throw new HttpProblem(400, 'the body is not JSON');
  }
  const result = await handleApiCall(service, decodeURIComponent(pathname.slice('/api/'.length)), input);
  const status = result.ok ? 200 : result.error.code === 'unknown-method' ? 404 : result.error.code === 'bad-input' ? 400 : 422;
  sendJson(res, status, result);
}

interface Routes {
  options: WebServerOptions;
  guard: CallerGuard;
  events: EventStream;
  content: AppContent;
}

async function route(routes: Routes, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { guard, options } = routes;
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = req.method ?? 'GET';
  if (url.pathname === '/api/events' && method === 'GET') {
    guard.check(req, false);
    routes.events.open(req, res);
  } else if (url.pathname.startsWith('/api/')) {
    if (method !== 'POST') throw new HttpProblem(405, 'API calls are POST');
    guard.check(req, true);
    await answerApiCall(req, res, options.service, url.pathname);
  } else if (url.pathname === '/upload') {
    if (method !== 'POST') throw new HttpProblem(405, 'uploads are POST');
    guard.check(req, true);
    await handleUpload(req, res, url, options.uploadsDir);
  } else {
    guard.check(req, false);
    sendAppResponse(res, await serveAppRequest(routes.content, method, url.pathname));
  }
}

export function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const routes: Routes = {
    options,
    guard: new CallerGuard(),
    events: new EventStream(),
    content: { rendererDir: options.rendererDir, media: (kind, id) => options.service.media(kind, id) },
  };
  const server = http.createServer((req, res) => {
    route(routes, req, res).catch((err: unknown) => {
      const status = err instanceof HttpProblem ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) sendJson(res, status, { ok: false, error: { code: 'http', message } });
      else res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      const origin = routes.guard.listening(port);
      resolve({
        url: `${origin}/`,
        port,
        broadcast: (event) => routes.events.broadcast(event),
        close: () =>
          new Promise<void>((done) => {
            routes.events.closeAll();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
