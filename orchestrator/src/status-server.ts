/**
 * GET /v1/status (contracts/src/status-api.ts): the definition file's last load and last
 * applied load (with every issue, naming file, line, function and field) and each function's
 * versions. Errors are JSON per client-errors.ts (404 unknown path, 405 other methods).
 *
 * No internal token on loopback (the default, 127.0.0.1): the answer is read-only and holds no
 * secret (names, versions, states and validation messages, never env values or secret
 * contents), so a user can `curl` it while editing the file. Bound to any other address it
 * does need the token (internal-auth.ts), since it is then reachable by other hosts or containers.
 * node:http rather than express: one read-only route does not need a framework.
 */
import * as http from 'node:http';
import {
  type ClientErrorCode, type FunctionStatus, INTERNAL_AUTH, type Logger, type StatusResponse, StatusResponseSchema, clientError, isAuthorized,
} from '@faas/contracts';
import type { ReloadStatus } from './definition-reload';

export interface StatusSource {
  reload(): ReloadStatus;
  functions(): FunctionStatus[];
}

export interface StatusServerOptions {
  host: string;
  /** 0: any free port (tests). */
  port: number;
  source: StatusSource;
  log: Logger;
  /** Required of callers unless `host` is a loopback address. */
  internalToken: string;
  /** Override of "token unless loopback" (tests). */
  requireToken?: boolean;
}

export interface StatusServer {
  port: number;
  close(): Promise<void>;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function sendError(res: http.ServerResponse, code: ClientErrorCode, message: string, headers: Record<string, string> = {}): void {
  const e = clientError(code, message);
  send(res, e.status, e.body, headers);
}

/** The response body, checked against the contract before it leaves. */
export function statusBody(source: StatusSource): StatusResponse {
  return StatusResponseSchema.parse({ ...source.reload(), functions: source.functions() });
}

export async function startStatusServer(opts: StatusServerOptions): Promise<StatusServer> {
  const needsToken = opts.requireToken ?? !isLoopbackHost(opts.host);
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://status').pathname;
    if (needsToken && !isAuthorized(req.headers[INTERNAL_AUTH.header], opts.internalToken)) {
      sendError(res, 'unauthorized', `${req.method} ${pathname} needs "${INTERNAL_AUTH.header}: ${INTERNAL_AUTH.scheme} <token>" (${INTERNAL_AUTH.env})`);
      return;
    }
    if (pathname !== '/v1/status') {
      sendError(res, 'not_found', `no resource ${pathname}; the status is at GET /v1/status`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 'method_not_allowed', `${req.method} is not supported on /v1/status; use GET`, { allow: 'GET, HEAD' });
      return;
    }
    try {
      send(res, 200, statusBody(opts.source));
    } catch (err) {
      opts.log.error('status_failed', { error: err });
      sendError(res, 'internal_error', 'the status could not be assembled (see the orchestrator log)');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  opts.log.info('status_listening', { host: opts.host, port, token: needsToken });
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
