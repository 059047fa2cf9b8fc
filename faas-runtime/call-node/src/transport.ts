/**
 * One HTTP request to the platform's entry, over TCP (`http://host:port`) or a unix socket
 * (`unix:/path`). node:http, not fetch: fetch cannot reach a unix socket without undici's
 * dispatcher, and this package must stay free of dependencies.
 */
import * as http from 'node:http';

export interface Target {
  socketPath?: string;
  host?: string;
  port?: number;
  /** Path prefix of the entry ('' for the gateway's root). */
  base: string;
}

export function parseCallUrl(url: string): Target | undefined {
  if (url.startsWith('unix:')) {
    const socketPath = url.slice('unix:'.length);
    return socketPath.startsWith('/') ? { socketPath, base: '' } : undefined;
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined; // not a URL: the caller reports it as a configuration error
  }
  if (u.protocol !== 'http:' || u.search !== '' || u.hash !== '') return undefined;
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port === '' ? 80 : Number(u.port), base: u.pathname.replace(/\/+$/, '') };
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export class TransportError extends Error {
  constructor(readonly kind: 'timeout' | 'connect' | 'too_large' | 'aborted', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
  }
}

/** Connection errors that mean "nothing is listening there". */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

export function send(target: Target, path: string, headers: Record<string, string>, body: Buffer | undefined, timeoutMs: number, maxBytes: number): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      ...(target.socketPath !== undefined ? { socketPath: target.socketPath } : { host: target.host, port: target.port }),
      method: 'POST',
      path: target.base + path,
      headers: { ...headers, ...(body !== undefined ? { 'content-length': String(body.length) } : { 'content-length': '0' }) },
      agent: false,
    });
    const timer = setTimeout(() => req.destroy(new TransportError('timeout', `no answer within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error & { code?: string }) => {
      clearTimeout(timer);
      if (err instanceof TransportError) reject(err);
      else if (err.code !== undefined && CONNECT_ERRORS.has(err.code)) reject(new TransportError('connect', `cannot connect: ${err.message}`, { cause: err }));
      else reject(new TransportError('aborted', `the connection failed: ${err.message}`, { cause: err }));
    };
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) req.destroy(new TransportError('too_large', `the answer exceeds ${maxBytes} bytes`));
        else chunks.push(c);
      });
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.end(body);
  });
}
