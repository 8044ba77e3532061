// Reading requests and writing responses on Node's http server, for the browser build's routes.
import http from 'node:http';
import type { AppResponse } from '../common/app-requests.js';
import { SECURITY_HEADERS } from '../common/security-headers.js';

/** A refusal with its HTTP status; the server answers it as JSON ({ ok: false, error }). */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The body, refused (413) beyond `limit` bytes before it is read in full. */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpProblem(413, `the request is larger than ${Math.round(limit / 1024 / 1024)} MB`);
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      reject(tooLarge());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(tooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

/** Sends what common/app-requests.ts answered (the renderer's files, pictures by id). */
export function sendAppResponse(res: http.ServerResponse, response: AppResponse): void {
  res.writeHead(response.status, response.headers);
  res.end(response.body ?? undefined);
}
