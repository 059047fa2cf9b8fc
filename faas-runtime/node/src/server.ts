/**
 * The HTTP server inside every function container: readiness and stats endpoints, a per-instance
 * in-flight limit, Lambda-style handler calls, and a graceful drain on SIGTERM/SIGINT.
 * Only node: modules, because this directory is copied into images as is.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RuntimeConfig, parseRuntimeConfig } from './config';
import { HandlerLoadError, RuntimeConfigError } from './errors';
import { type FaasContext, type FaasEvent, type Handler, HandlerTimeoutError, invokeHandler, loadHandler } from './handler';
import { type RuntimeLogger, createRuntimeLogger } from './log';
import { REQUEST_ID_HEADER, RUNTIME_PATHS } from './paths';
import { type HttpResponse, jsonResponse, toHttpResponse } from './response';

export interface RuntimeStats {
  function: string;
  version: string;
  inflight: number;
  served: number;
  rejected: number;
  concurrency: number;
  idleMs: number;
  ready: boolean;
  draining: boolean;
}

export interface RuntimeServer {
  /** Port actually bound (useful with FAAS_PORT=0). */
  port: number;
  stats(): RuntimeStats;
  /** Stop accepting, finish in-flight requests up to drainTimeoutMs, close. Idempotent. */
  drain(): Promise<void>;
}

const REQUEST_ID_OK = /^[\x21-\x7e]{1,200}$/;

function requestIdOf(req: http.IncomingMessage): string {
  const v = req.headers[REQUEST_ID_HEADER];
  const s = Array.isArray(v) ? v[0] : v;
  return s !== undefined && REQUEST_ID_OK.test(s) ? s : randomUUID();
}

function flatHeaders(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function parseTarget(url: string): { path: string; rawQuery: string; query: Record<string, string> } {
  const q = url.indexOf('?');
  const p = q === -1 ? url : url.slice(0, q);
  const rawQuery = q === -1 ? '' : url.slice(q + 1);
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) if (!(k in query)) query[k] = v;
  return { path: p === '' ? '/' : p, rawQuery, query };
}

class BodyTooLarge extends Error {}

function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.pause();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** Starts the server and then loads the handler; rejects with HandlerLoadError if it cannot be loaded. */
export async function startRuntime(cfg: RuntimeConfig, log: RuntimeLogger = createRuntimeLogger({ fn: cfg.functionName, version: cfg.functionVersion })): Promise<RuntimeServer> {
  let handler: Handler | undefined;
  let draining = false;
  let inflight = 0;
  let served = 0;
  let rejected = 0;
  let lastIdleSince = Date.now();
  let onIdle: (() => void) | undefined;

  const isReady = (): boolean => handler !== undefined && !draining && server.listening;

  const stats = (): RuntimeStats => ({
    function: cfg.functionName,
    version: cfg.functionVersion,
    inflight,
    served,
    rejected,
    concurrency: cfg.concurrency,
    idleMs: inflight > 0 ? 0 : Date.now() - lastIdleSince,
    ready: isReady(),
    draining,
  });

  const send = (res: http.ServerResponse, requestId: string, r: HttpResponse): void => {
    if (res.headersSent || res.destroyed) return;
    try {
      for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
    } catch (err) {
      log.error('invalid_response_header', { requestId, error: err });
      r = jsonResponse(500, { error: 'function_error', message: `invalid response header: ${(err as Error).message}`, requestId });
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
    }
    res.setHeader(REQUEST_ID_HEADER, requestId);
    res.setHeader('content-length', r.body.length);
    // While draining, keep-alive connections are closed after their last response.
    if (draining) res.setHeader('connection', 'close');
    res.statusCode = r.statusCode;
    res.end(r.body);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const requestId = requestIdOf(req);
    const target = parseTarget(req.url ?? '/');
    if (req.method === 'GET' && target.path === RUNTIME_PATHS.ready) {
      const ok = isReady();
      send(res, requestId, jsonResponse(ok ? 200 : 503, { ready: ok, draining, loaded: handler !== undefined }));
      return;
    }
    if (req.method === 'GET' && target.path === RUNTIME_PATHS.stats) {
      send(res, requestId, jsonResponse(200, { ...stats() }));
      return;
    }
    if (handler === undefined || draining) {
      rejected++;
      send(res, requestId, jsonResponse(503, { error: draining ? 'draining' : 'not_ready', requestId }));
      return;
    }
    if (inflight >= cfg.concurrency) {
      rejected++;
      log.warn('concurrency_limit', { requestId, inflight, concurrency: cfg.concurrency });
      send(res, requestId, jsonResponse(429, { error: 'concurrency_limit', message: `this instance already serves ${cfg.concurrency} request(s)`, concurrency: cfg.concurrency, requestId }));
      return;
    }
    const fn = handler;
    inflight++;
    const started = Date.now();
    const deadline = started + cfg.timeoutMs;
    let status = 0;
    try {
      let body: Buffer;
      try {
        body = await readBody(req, cfg.maxBodyBytes);
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          res.setHeader('connection', 'close');
          status = 413;
          send(res, requestId, jsonResponse(413, { error: 'body_too_large', message: `request body exceeds ${cfg.maxBodyBytes} bytes`, requestId }));
          res.on('finish', () => req.socket.destroy());
          return;
        }
        throw err;
      }
      const event: FaasEvent = { method: req.method ?? 'GET', path: target.path, rawQuery: target.rawQuery, query: target.query, headers: flatHeaders(req), body, requestId };
      const context: FaasContext = {
        functionName: cfg.functionName,
        functionVersion: cfg.functionVersion,
        requestId,
        deadline,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      };
      let response: HttpResponse;
      try {
        response = toHttpResponse(await invokeHandler(fn, event, context));
      } catch (err) {
        if (err instanceof HandlerTimeoutError) {
          log.error('handler_timeout', { requestId, timeoutMs: cfg.timeoutMs });
          response = jsonResponse(504, { error: 'function_timeout', message: err.message, requestId });
        } else {
          const e = err instanceof Error ? err : new Error(String(err));
          log.error('handler_error', { requestId, error: e });
          response = jsonResponse(500, { error: 'function_error', message: e.message, requestId });
        }
      }
      status = response.statusCode;
      send(res, requestId, response);
    } catch (err) {
      status = 500;
      log.error('request_failed', { requestId, error: err });
      send(res, requestId, jsonResponse(500, { error: 'runtime_error', message: (err as Error).message, requestId }));
    } finally {
      inflight--;
      served++;
      if (inflight === 0) lastIdleSince = Date.now();
      log.debug('request', { requestId, method: req.method, path: target.path, status, ms: Date.now() - started });
      if (inflight === 0 && onIdle) onIdle();
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => log.error('request_failed', { error: err }));
  });
  server.keepAliveTimeout = 65_000; // longer than typical proxy idle timeouts, so the router closes first

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error('server_error', { error: err }));
  const port = (server.address() as AddressInfo).port;
  log.info('listening', { host: cfg.host, port });

  // Loaded after listen so /_faas/ready answers 503 during a slow module load.
  const loadStarted = Date.now();
  try {
    await new Promise<void>((r) => setImmediate(r));
    handler = loadHandler(cfg.codeDir, cfg.handlerModule, cfg.handlerExport);
  } catch (err) {
    server.close();
    server.closeAllConnections();
    throw err;
  }
  lastIdleSince = Date.now();
  log.info('ready', { port, handler: `${cfg.handlerModule}.${cfg.handlerExport}`, loadMs: Date.now() - loadStarted, concurrency: cfg.concurrency });

  let drained: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    if (drained) return drained;
    draining = true;
    log.info('draining', { inflight, drainTimeoutMs: cfg.drainTimeoutMs });
    drained = new Promise<void>((resolve) => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const idle = new Promise<void>((r) => {
        if (inflight === 0) r();
        else onIdle = r;
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), cfg.drainTimeoutMs);
      });
      void Promise.race([idle.then(() => 'idle' as const), timeout]).then(async (why) => {
        clearTimeout(timer);
        if (why === 'timeout') log.warn('drain_timeout', { inflight });
        // Responses are sent; drop what is left (idle keep-alives, timed-out requests).
        server.closeAllConnections();
        await closed;
        log.info('drained', { served, rejected, abandoned: why === 'timeout' ? inflight : 0 });
        resolve();
      });
    });
    return drained;
  };

  return { port, stats, drain };
}

/** Process entry: env -> config -> server; exit 1 on bad config or handler, 0 after a drain. */
export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const boot = createRuntimeLogger({ fn: env.FAAS_FUNCTION });
  let cfg: RuntimeConfig;
  try {
    cfg = parseRuntimeConfig(env);
  } catch (err) {
    // A config mistake needs the message, not a stack trace.
    boot.error('invalid_config', { message: (err as Error).message, ...(err instanceof RuntimeConfigError ? err.context : {}) });
    process.exit(1);
  }
  const log = createRuntimeLogger({ fn: cfg.functionName, version: cfg.functionVersion });
  // User code may throw from timers or leave rejections: log them, keep serving the others.
  process.on('uncaughtException', (err) => log.error('uncaught_exception', { error: err }));
  process.on('unhandledRejection', (reason) => log.error('unhandled_rejection', { error: reason }));
  let rt: RuntimeServer;
  try {
    rt = await startRuntime(cfg, log);
  } catch (err) {
    const ctx = err instanceof HandlerLoadError ? err.context : {};
    const cause = err instanceof Error ? err.cause : undefined;
    log.error(err instanceof HandlerLoadError ? 'handler_load_failed' : 'start_failed', { message: (err as Error).message, ...ctx, error: err, ...(cause !== undefined ? { cause } : {}) });
    process.exit(1);
  }
  const stop = (signal: string): void => {
    log.info('signal', { signal });
    void rt.drain().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) void main();
