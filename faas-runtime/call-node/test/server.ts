/** A local HTTP server playing the platform's entry for the client tests, on TCP or a unix socket. */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { clientError } from '@faas/contracts';

export interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }

export interface Entry {
  url: string;
  unixUrl: string;
  seen: Seen[];
  close(): Promise<void>;
}

/**
 * /add: {x, y} → x + y as JSON; /text: text; /bytes: octet-stream; /mine: the function's own 418;
 * /deep: the platform's 508 call_depth_exceeded; /hang: never answers; /badjson: says JSON, is not.
 */
function route(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
  const rid = typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : 'gen-1';
  res.setHeader('x-request-id', rid);
  switch (req.url) {
    case '/add': {
      const a = JSON.parse(body) as { x: number; y: number };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(a.x + a.y));
      return;
    }
    case '/text': res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`hi ${body}`); return;
    case '/bytes': res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47])); return;
    case '/mine': res.writeHead(418, { 'content-type': 'application/json' }).end(JSON.stringify({ teapot: true })); return;
    case '/deep': {
      const e = clientError('call_depth_exceeded', 'too deep', { fn: 'deep', requestId: rid });
      res.writeHead(e.status, { 'content-type': 'application/json' }).end(JSON.stringify(e.body));
      return;
    }
    case '/hang': return;
    case '/badjson': res.writeHead(200, { 'content-type': 'application/json' }).end('{nope'); return;
    default: {
      const e = clientError('unknown_function', 'no such function', { requestId: rid });
      res.writeHead(e.status, { 'content-type': 'application/json' }).end(JSON.stringify(e.body));
    }
  }
}

export async function startEntry(): Promise<Entry> {
  const seen: Seen[] = [];
  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      route(req, body, res);
    });
  };
  const tcp = http.createServer(handler);
  const unix = http.createServer(handler);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-call-test-'));
  const sock = path.join(dir, 'gateway.sock');
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => unix.listen(sock, () => r()));
  const stop = (s: http.Server) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); });
  return {
    url: `http://127.0.0.1:${(tcp.address() as AddressInfo).port}`,
    unixUrl: `unix:${sock}`,
    seen,
    async close() {
      await Promise.all([stop(tcp), stop(unix)]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
