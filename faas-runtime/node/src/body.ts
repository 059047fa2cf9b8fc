/**
 * Reading a request body into exactly one Buffer: preallocated from Content-Length, or (chunked)
 * the chunks concatenated once at the end. The limit is checked before and while reading, so a
 * body over it never occupies more than the limit in memory.
 */
import type * as http from 'node:http';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export class BodyAbortedError extends Error {
  constructor() {
    super('the client ended the request before its body was complete');
    this.name = 'BodyAbortedError';
  }
}

/** Content-Length as a number, or undefined when absent (chunked). Node's parser has validated it. */
export function declaredLength(req: http.IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = declaredLength(req);
    if (declared !== undefined && declared > max) {
      reject(new BodyTooLargeError(max));
      return;
    }
    const pre = declared !== undefined ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      req.removeAllListeners('data');
      req.pause();
      reject(err);
    };
    req.on('data', (c: Buffer) => {
      if (done) return;
      if (size + c.length > (pre ? pre.length : max)) {
        fail(new BodyTooLargeError(max));
        return;
      }
      if (pre) c.copy(pre, size);
      else chunks.push(c);
      size += c.length;
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      if (pre) resolve(size === pre.length ? pre : pre.subarray(0, size));
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.on('aborted', () => fail(new BodyAbortedError()));
    req.on('error', (err) => fail(err));
  });
}
