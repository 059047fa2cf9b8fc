/**
 * One request through the runtime: refusals decided before the body is read (and before
 * 100 Continue, so a refused request never "reached" the instance), the body read once, the
 * handler called in its style, and every answer the runtime makes itself as error JSON.
 */
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import { BodyAbortedError, BodyTooLargeError, declaredLength, readBody } from './body';
import { type RequestCalls, requestCalls, runWithCalls } from './calls';
import type { RuntimeConfig } from './config';
import { type FaasContext, type Handler, HandlerTimeoutError, invokeHandler } from './handler';
import { apiGatewayEvent, lambdaErrorBody } from './lambda';
import type { RuntimeLogger } from './log';
import type { MemoryGuard } from './memory-guard';
import { LAMBDA_INVOKE_PATH, REQUEST_ID_HEADER, RUNTIME_PATHS, type RuntimeErrorCode } from './paths';
import { type HttpResponse, errorResponse, jsonResponse, toHttpResponse } from './response';

/** What the server and the requests share; the server owns the lifecycle fields. */
export interface RuntimeState {
  handler: Handler | undefined;
  draining: boolean;
  inflight: number;
  served: number;
  rejected: number;
  lastIdleSince: number;
  isReady(): boolean;
  stats(): Record<string, unknown>;
  onIdle: (() => void) | undefined;
}

const REQUEST_ID_OK = /^[\x21-\x7e]{1,200}$/;

export function requestIdOf(req: http.IncomingMessage): string {
  const v = req.headers[REQUEST_ID_HEADER];
  const s = Array.isArray(v) ? v[0] : v;
  return s !== undefined && REQUEST_ID_OK.test(s) ? s : randomUUID();
}

/** Header names lowercase, repeats joined; `expect` is hop-by-hop and answered by the runtime. */
function handlerHeaders(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k === 'expect') continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export function parseTarget(url: string): { path: string; rawQuery: string; query: Record<string, string> } | undefined {
  if (!url.startsWith('/')) return undefined; // absolute-form or '*': not for a function
  const q = url.indexOf('?');
  const p = q === -1 ? url : url.slice(0, q);
  const rawQuery = q === -1 ? '' : url.slice(q + 1);
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) if (!(k in query)) query[k] = v;
  return { path: p, rawQuery, query };
}

export function createRequestHandler(cfg: RuntimeConfig, log: RuntimeLogger, state: RuntimeState, guard: MemoryGuard) {
  const fnName = cfg.functionName;
  const fail = (code: RuntimeErrorCode, message: string, requestId: string): HttpResponse => errorResponse(code, message, fnName, requestId);

  const send = (res: http.ServerResponse, requestId: string, r: HttpResponse, close = false): void => {
    if (res.headersSent || res.destroyed) return;
    try {
      for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
    } catch (err) {
      log.error('invalid_response_header', { requestId, error: err });
      r = fail('handler_error', `invalid response header: ${(err as Error).message}`, requestId);
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
    }
    res.setHeader(REQUEST_ID_HEADER, requestId);
    res.setHeader('content-length', r.body.length);
    // While draining, keep-alive connections are closed after their last response; after an
    // unread body the connection cannot be reused.
    if (state.draining || close) res.setHeader('connection', 'close');
    res.statusCode = r.statusCode;
    res.end(r.body);
  };

  /** An answer without the body read: the connection closes, unread bytes are discarded meanwhile. */
  const refuseUnread = (req: http.IncomingMessage, res: http.ServerResponse, requestId: string, r: HttpResponse): void => {
    const hasBody = declaredLength(req) !== 0 && (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined);
    send(res, requestId, r, hasBody);
    if (hasBody) req.resume();
  };

  /** A refusal that applies before reading the body, or undefined. */
  const refusal = (req: http.IncomingMessage, requestId: string): HttpResponse | undefined => {
    if (state.handler === undefined) return fail('platform_unavailable', 'the handler is still loading', requestId);
    if (state.draining) return fail('draining', 'this instance is shutting down', requestId);
    if (state.inflight >= cfg.concurrency) {
      log.warn('concurrency_limit', { requestId, inflight: state.inflight, concurrency: cfg.concurrency });
      return fail('concurrency_limit', `this instance already serves ${cfg.concurrency} request(s)`, requestId);
    }
    const declared = declaredLength(req);
    if (declared !== undefined && declared > cfg.maxBodyBytes) return fail('body_too_large', `request body of ${declared} bytes exceeds ${cfg.maxBodyBytes} bytes`, requestId);
    if (declared !== undefined && !guard.fits(declared)) {
      log.warn('body_exceeds_memory', { requestId, bytes: declared, memoryMax: guard.maxBytes });
      return fail('body_too_large', `request body of ${declared} bytes does not fit in this instance's free memory`, requestId);
    }
    return undefined;
  };

  const countRefusal = (r: HttpResponse): void => {
    if (r.statusCode === 429 || r.statusCode === 503) state.rejected++;
    else state.served++;
  };

  const invoke = async (req: http.IncomingMessage, fn: Handler, requestId: string, target: NonNullable<ReturnType<typeof parseTarget>>, body: Buffer, calls: RequestCalls): Promise<HttpResponse> => {
    const { deadline } = calls;
    const context: FaasContext = {
      functionName: cfg.functionName,
      functionVersion: cfg.functionVersion,
      requestId,
      awsRequestId: requestId,
      memoryLimitInMB: cfg.memoryMb !== undefined ? String(cfg.memoryMb) : undefined,
      deadline,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      call: calls.call,
      callDepth: calls.ctx.depth,
    };
    const headers = handlerHeaders(req);
    const lambdaInvoke = cfg.handlerStyle === 'lambda' && req.method === 'POST' && target.path === LAMBDA_INVOKE_PATH;
    let event: unknown;
    if (lambdaInvoke) {
      try {
        event = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch (err) {
        return fail('invalid_request', `the invoke body is not JSON: ${(err as Error).message}`, requestId);
      }
    } else if (cfg.handlerStyle === 'lambda') {
      event = apiGatewayEvent(req, target, headers, body, requestId, Date.now());
    } else {
      event = { method: req.method ?? 'GET', path: target.path, rawQuery: target.rawQuery, query: target.query, headers, body, requestId };
    }
    try {
      const result = await runWithCalls(calls, () => invokeHandler(fn, event as Parameters<Handler>[0], context));
      if (lambdaInvoke) return jsonResponse(200, (JSON.parse(JSON.stringify(result ?? null) ?? 'null') as Record<string, unknown>));
      return toHttpResponse(result);
    } catch (err) {
      if (err instanceof HandlerTimeoutError) {
        log.error('handler_timeout', { requestId, timeoutMs: cfg.timeoutMs });
        return fail('function_timeout', err.message, requestId);
      }
      const e = err instanceof Error ? err : new Error(String(err));
      log.error('handler_error', { requestId, error: e });
      if (lambdaInvoke) return { ...jsonResponse(200, lambdaErrorBody(e)), headers: { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' } };
      return fail('handler_error', e.message, requestId);
    }
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, requestId: string, refused: HttpResponse | undefined): Promise<void> => {
    const target = parseTarget(req.url ?? '/');
    if (target === undefined) {
      refuseUnread(req, res, requestId, fail('invalid_request', 'the request target must be a path starting with "/"', requestId));
      return;
    }
    if (req.method === 'GET' && target.path === RUNTIME_PATHS.ready) {
      const ok = state.isReady();
      send(res, requestId, jsonResponse(ok ? 200 : 503, { ready: ok, draining: state.draining, loaded: state.handler !== undefined }));
      return;
    }
    if (req.method === 'GET' && target.path === RUNTIME_PATHS.stats) {
      send(res, requestId, jsonResponse(200, state.stats()));
      return;
    }
    const no = refused ?? refusal(req, requestId);
    if (no !== undefined || state.handler === undefined) {
      const r = no ?? fail('platform_unavailable', 'the handler is still loading', requestId);
      countRefusal(r);
      refuseUnread(req, res, requestId, r);
      return;
    }
    const fn = state.handler;
    state.inflight++;
    const started = Date.now();
    let status = 0;
    try {
      let body: Buffer;
      try {
        body = await readBody(req, cfg.maxBodyBytes);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          status = 413;
          refuseUnread(req, res, requestId, fail('body_too_large', err.message, requestId));
          return;
        }
        if (err instanceof BodyAbortedError) {
          log.warn('request_aborted', { requestId });
          return; // nobody is left to answer
        }
        throw err;
      }
      const response = await invoke(req, fn, requestId, target, body, requestCalls(req, requestId, started, cfg.timeoutMs));
      status = response.statusCode;
      send(res, requestId, response);
    } catch (err) {
      status = 500;
      log.error('request_failed', { requestId, error: err });
      send(res, requestId, fail('internal_error', 'the runtime failed to handle the request; see its logs', requestId));
    } finally {
      state.inflight--;
      state.served++;
      if (state.inflight === 0) state.lastIdleSince = Date.now();
      log.debug('request', { requestId, method: req.method, path: target.path, status, ms: Date.now() - started });
      if (state.inflight === 0 && state.onIdle) state.onIdle();
    }
  };

  const run = (req: http.IncomingMessage, res: http.ServerResponse, requestId = requestIdOf(req), refused?: HttpResponse): void => {
    handle(req, res, requestId, refused).catch((err: unknown) => log.error('request_failed', { requestId, error: err }));
  };

  return {
    onRequest: (req: http.IncomingMessage, res: http.ServerResponse): void => run(req, res),
    /**
     * Expect: 100-continue. The router takes the interim 100 as "the request reached the
     * instance": a request refused here gets its final answer without a 100 (the router may
     * retry it elsewhere); otherwise 100 Continue is written before the handler runs.
     */
    onCheckContinue: (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const target = parseTarget(req.url ?? '/');
      const isControl = req.method === 'GET' && (target?.path === RUNTIME_PATHS.ready || target?.path === RUNTIME_PATHS.stats);
      const requestId = requestIdOf(req);
      const refused = target === undefined || isControl ? undefined : refusal(req, requestId);
      if (refused === undefined) res.writeContinue();
      run(req, res, requestId, refused);
    },
    /** Malformed HTTP never reaches a request handler: answer it as error JSON, then close. */
    onClientError: (err: Error & { code?: string }, socket: import('node:stream').Duplex): void => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      const big = err.code === 'HPE_HEADER_OVERFLOW';
      const code: RuntimeErrorCode = big ? 'headers_too_large' : 'invalid_request';
      const r = fail(code, big ? 'the request headers are too large' : `malformed HTTP request (${err.code ?? err.message})`, randomUUID());
      log.warn('client_error', { code: err.code, message: err.message });
      const reason = big ? 'Request Header Fields Too Large' : 'Bad Request';
      socket.end(`HTTP/1.1 ${r.statusCode} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${r.body.length}\r\nconnection: close\r\n\r\n${r.body.toString()}`);
    },
  };
}
