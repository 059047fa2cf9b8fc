/**
 * call(name, args): POST /<name> with args as JSON through the platform's entry (the gateway),
 * so cold starts, scaling and limits apply as for any client. The answer comes back parsed
 * (JSON, text or bytes); a platform error JSON becomes a CallError with its code.
 */
import { type CallContext, currentCallContext } from './ambient';
import { CALL_HEADERS, CALL_URL_ENV, DEFAULT_CALL_URL } from './constants';
import { CallError, errorOfResponse } from './errors';
import { TransportError, parseCallUrl, send } from './transport';

export interface CallOptions {
  /** The platform's entry: `unix:/path` or `http://host:port`; default FAAS_CALL_URL, else http://127.0.0.1:8080. */
  url?: string;
  /** Request id to propagate (default: the current request's inside a function). */
  requestId?: string;
  /** Epoch ms after which the call is given up (default: the current request's deadline). */
  deadline?: number;
  /** Depth of the calling request; the call goes out at depth + 1 (default: the current request's, else 0). */
  depth?: number;
  /** Local bound on the whole call (default 300000, the gateway's outer bound). */
  timeoutMs?: number;
  /** Extra request headers (content-type for a Buffer or string body, for example). */
  headers?: Record<string, string>;
  /** Largest answer accepted (default 64 MiB). */
  maxResponseBytes?: number;
  /** Clock, for tests. */
  now?: () => number;
}

const NAME = /^[a-z][a-z0-9-]{0,39}$/;
const DEFAULT_TIMEOUT_MS = 300_000;
const DEFAULT_MAX_RESPONSE = 64 * 1024 * 1024;

function encodeArgs(args: unknown): { body: Buffer | undefined; type: string | undefined } {
  if (args === undefined) return { body: undefined, type: undefined };
  if (Buffer.isBuffer(args)) return { body: args, type: 'application/octet-stream' };
  if (typeof args === 'string') return { body: Buffer.from(args), type: 'text/plain; charset=utf-8' };
  return { body: Buffer.from(JSON.stringify(args)), type: 'application/json' };
}

function decodeAnswer(fn: string, status: number, contentType: string, body: Buffer, requestId: string | undefined): unknown {
  if (/^application\/([a-z.+-]*\+)?json\b/i.test(contentType)) {
    if (body.length === 0) return null;
    try {
      return JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new CallError('bad_gateway', `call to ${fn}: the answer says JSON but is not`, { fn, status, requestId }, { cause: err });
    }
  }
  if (/^text\//i.test(contentType)) return body.toString('utf8');
  return body;
}

/** Calls function `name` with `args` and resolves with its answer; rejects with CallError. */
export async function call<T = unknown>(name: string, args?: unknown, options: CallOptions = {}): Promise<T> {
  const ambient: Partial<CallContext> = currentCallContext() ?? {};
  const now = options.now ?? Date.now;
  const requestId = options.requestId ?? ambient.requestId;
  const deadline = options.deadline ?? ambient.deadline;
  const depth = options.depth ?? ambient.depth ?? 0;
  const ctx = { fn: name, ...(requestId !== undefined ? { requestId } : {}) };
  if (!NAME.test(name)) throw new CallError('invalid_name', `cannot call ${JSON.stringify(name)}: not a function name`, ctx);
  const url = options.url ?? process.env[CALL_URL_ENV] ?? DEFAULT_CALL_URL;
  const target = parseCallUrl(url);
  if (target === undefined) throw new CallError('invalid_request', `${CALL_URL_ENV}=${JSON.stringify(url)} is neither unix:/<path> nor http://host:port`, ctx);
  const remaining = deadline === undefined ? undefined : Math.floor(deadline - now());
  if (remaining !== undefined && remaining <= 0) throw new CallError('upstream_timeout', `call to ${name}: the caller's deadline has passed`, ctx);
  const { body, type } = encodeArgs(args);
  const headers: Record<string, string> = {
    accept: 'application/json, */*',
    ...(type !== undefined ? { 'content-type': type } : {}),
    ...options.headers,
    [CALL_HEADERS.depth]: String(depth + 1),
    ...(requestId !== undefined ? { [CALL_HEADERS.requestId]: requestId } : {}),
    ...(remaining !== undefined ? { [CALL_HEADERS.deadlineMs]: String(remaining) } : {}),
  };
  const timeoutMs = Math.min(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, remaining ?? Infinity);
  let answer;
  try {
    answer = await send(target, `/${name}`, headers, body, timeoutMs, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE);
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    const code = err.kind === 'timeout' ? 'upstream_timeout' : err.kind === 'connect' ? 'platform_unavailable' : 'bad_gateway';
    throw new CallError(code, `call to ${name}: ${err.message}`, ctx, { cause: err });
  }
  const rid = typeof answer.headers[CALL_HEADERS.requestId] === 'string' ? (answer.headers[CALL_HEADERS.requestId] as string) : requestId;
  const value = decodeAnswer(name, answer.status, answer.headers['content-type'] ?? '', answer.body, rid);
  if (answer.status < 200 || answer.status > 299) throw errorOfResponse(name, answer.status, value, rid);
  return value as T;
}

/** A call() bound to one request's context (what the runtime puts on `context.call`). */
export function createCaller(ctx: CallContext): <T = unknown>(name: string, args?: unknown, options?: CallOptions) => Promise<T> {
  return (name, args, options = {}) => call(name, args, {
    ...(ctx.requestId !== undefined ? { requestId: ctx.requestId } : {}),
    ...(ctx.deadline !== undefined ? { deadline: ctx.deadline } : {}),
    depth: ctx.depth,
    ...options,
  });
}
