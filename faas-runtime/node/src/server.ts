/**
 * The HTTP server inside every function container: readiness and stats endpoints, a per-instance
 * in-flight limit, handler calls (request.ts), and a graceful drain on SIGTERM/SIGINT.
 * Only node: modules, because this directory is copied into images as is.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RuntimeConfig, parseRuntimeConfig } from './config';
import { HandlerLoadError, RuntimeConfigError } from './errors';
import { loadHandler } from './handler';
import { type RuntimeLogger, createRuntimeLogger } from './log';
import { createMemoryGuard } from './memory-guard';
import { type RuntimeState, createRequestHandler } from './request';

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

/** Starts the server and then loads the handler; rejects with HandlerLoadError if it cannot be loaded. */
export async function startRuntime(cfg: RuntimeConfig, log: RuntimeLogger = createRuntimeLogger({ fn: cfg.functionName, version: cfg.functionVersion })): Promise<RuntimeServer> {
  const guard = createMemoryGuard(cfg.cgroupDir);
  if (cfg.memoryMb === undefined && guard.maxBytes !== undefined) cfg = { ...cfg, memoryMb: Math.floor(guard.maxBytes / (1024 * 1024)) };
  const stats = (): RuntimeStats => ({
    function: cfg.functionName,
    version: cfg.functionVersion,
    inflight: state.inflight,
    served: state.served,
    rejected: state.rejected,
    concurrency: cfg.concurrency,
    idleMs: state.inflight > 0 ? 0 : Date.now() - state.lastIdleSince,
    ready: state.isReady(),
    draining: state.draining,
  });
  const state: RuntimeState = {
    handler: undefined,
    draining: false,
    inflight: 0,
    served: 0,
    rejected: 0,
    lastIdleSince: Date.now(),
    onIdle: undefined,
    isReady: () => state.handler !== undefined && !state.draining && server.listening,
    stats: () => ({ ...stats() }),
  };
  const requests = createRequestHandler(cfg, log, state, guard);
  const server = http.createServer(requests.onRequest);
  server.on('checkContinue', requests.onCheckContinue);
  server.on('clientError', requests.onClientError);
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
    state.handler = loadHandler(cfg.codeDir, cfg.handlerModule, cfg.handlerExport);
  } catch (err) {
    server.close();
    server.closeAllConnections();
    throw err;
  }
  state.lastIdleSince = Date.now();
  log.info('ready', { port, handler: `${cfg.handlerModule}.${cfg.handlerExport}`, style: cfg.handlerStyle, loadMs: Date.now() - loadStarted, concurrency: cfg.concurrency, maxBodyBytes: cfg.maxBodyBytes, memoryMax: guard.maxBytes });

  let drained: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    if (drained) return drained;
    state.draining = true;
    log.info('draining', { inflight: state.inflight, drainTimeoutMs: cfg.drainTimeoutMs });
    drained = new Promise<void>((resolve) => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const idle = new Promise<void>((r) => {
        if (state.inflight === 0) r();
        else state.onIdle = r;
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), cfg.drainTimeoutMs);
      });
      void Promise.race([idle.then(() => 'idle' as const), timeout]).then(async (why) => {
        clearTimeout(timer);
        if (why === 'timeout') log.warn('drain_timeout', { inflight: state.inflight });
        // Responses are sent; drop what is left (idle keep-alives, timed-out requests).
        server.closeAllConnections();
        await closed;
        log.info('drained', { served: state.served, rejected: state.rejected, abandoned: why === 'timeout' ? state.inflight : 0 });
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
