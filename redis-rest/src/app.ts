/** The HTTP API of contracts/gateway-api.ts on express. Every answer, error or not, is JSON. */
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  FUNCTION_NAME_RULE, type FunctionStates, HEADERS, type InstanceFailureAnswer, type Logger, type WakeResult, type WakeTier, isAuthorized, isValidFunctionName,
} from '@faas/contracts';
import { type FailureHub, waitForFailure } from './failure-hub';
import { ApiError, redisDown } from './errors';
import { AFTER_RULE, FAILURE_SINCE_RULE, FAILURE_WAIT_RULE, WAIT_MS_RULE, WAKE_TIMEOUT_RULE, parseIntParam } from './params';
import type { RevHub } from './rev-hub';
import type { StateStore } from './store';
import type { WakeHub, WakeOutcome } from './wake-hub';

export interface AppDeps {
  store: StateStore;
  wakes: WakeHub;
  revs: RevHub;
  failures: FailureHub;
  logger: Logger;
  /** True while the command connection to Redis is usable. */
  redisUp(): boolean;
  /** True once close() began: long polls answer at once. */
  closing(): boolean;
  /** Shared secret every /v1 call must carry (contracts/internal-auth.ts). */
  internalToken: string;
}

const MAX_REQUEST_ID = 200;

function requestIdOf(req: Request): string {
  const v = req.headers[HEADERS.requestId];
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_REQUEST_ID ? v : 'none';
}

function sendError(res: Response, err: ApiError): void {
  if (res.headersSent) return;
  if (err.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(err.retryAfterSeconds));
  res.status(err.status).json(err.body());
}

function checkName(name: string): void {
  if (!isValidFunctionName(name)) {
    throw new ApiError('invalid_name', `invalid function name ${JSON.stringify(name)}: ${FUNCTION_NAME_RULE}, and not reserved`, { fn: name });
  }
}

function notDeployed(): ApiError {
  return new ApiError('not_deployed', 'no function states in Redis: the orchestrator has not run');
}

/** Redis command failures become 503; typed API errors pass through. */
function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return redisDown(err);
}

type Handler = (req: Request, res: Response) => Promise<void>;
const wrap = (h: Handler) => (req: Request, res: Response, next: NextFunction) => {
  h(req, res).catch(next);
};

export function createApp(deps: AppDeps): express.Express {
  const { store, wakes, revs, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  // No endpoint takes a body, but a client sending bad JSON gets a clear 400 instead of a crash.
  app.use(express.json({ limit: '16kb' }));

  const requireRedis = () => {
    if (!deps.redisUp()) throw redisDown();
  };

  app.get('/healthz', wrap(async (_req, res) => {
    requireRedis();
    await store.readRev().catch((err: unknown) => { throw redisDown(err); });
    res.json({ ok: true, redis: 'up' });
  }));

  // Every /v1 route needs the shared secret (/healthz stays open for probes).
  app.use('/v1', (req: Request, _res: Response, next: NextFunction) => {
    if (isAuthorized(req.headers.authorization, deps.internalToken)) return next();
    next(new ApiError('unauthorized', 'missing or wrong internal API token (authorization: Bearer <token>)'));
  });

  app.get('/v1/functions', wrap(async (req, res) => {
    const after = parseIntParam(req.query.after, AFTER_RULE);
    const waitMs = parseIntParam(req.query.wait_ms, WAIT_MS_RULE) as number;
    requireRedis();
    if (after !== undefined && waitMs > 0 && !deps.closing()) {
      // Register before reading the rev, so a change in between is not missed.
      let release: () => void = () => undefined;
      const changed = new Promise<void>((resolve) => { release = resolve; });
      const unregister = revs.register({ after, release: () => release() });
      const timer = setTimeout(() => release(), waitMs);
      res.on('close', () => release());
      try {
        if ((await store.readRev()) === after) await changed;
      } finally {
        clearTimeout(timer);
        unregister();
      }
      if (res.destroyed || res.writableEnded) return;
      requireRedis();
    }
    const snap = await store.readAll();
    if (!snap.exists) throw notDeployed();
    if (snap.malformed.length) logger.warn('malformed_state_records', { fields: snap.malformed });
    const body: FunctionStates = { rev: snap.rev, functions: snap.functions };
    res.json(body);
  }));

  app.get('/v1/functions/:name', wrap(async (req, res) => {
    const name = String(req.params.name);
    checkName(name);
    requireRedis();
    const read = await store.readOne(name);
    if (!read.hashExists) throw notDeployed();
    if (!read.record) {
      if (read.malformed) throw new ApiError('malformed_state', `state record of ${name} in Redis is malformed`, { fn: name });
      throw new ApiError('unknown_function', `no function named ${name} is defined`, { fn: name });
    }
    res.json(read.record);
  }));

  // Why an instance of the function ended, for a request the router answered instance_failed
  // (contracts/instance-failures.ts): held until the orchestrator's record arrives or wait_ms.
  app.get('/v1/functions/:name/failure', wrap(async (req, res) => {
    const started = Date.now();
    const name = String(req.params.name);
    checkName(name);
    const since = parseIntParam(req.query.since, FAILURE_SINCE_RULE);
    if (since === undefined) throw new ApiError('invalid_request', 'query parameter since (epoch ms) is required');
    const waitMs = parseIntParam(req.query.wait_ms, FAILURE_WAIT_RULE) as number;
    requireRedis();
    const failure = await waitForFailure({ hub: deps.failures, store, fn: name, since, waitMs: deps.closing() ? 0 : waitMs, onClose: (f) => res.on('close', f) });
    if (failure.malformed > 0) logger.warn('malformed_failure_records', { fn: name, count: failure.malformed });
    if (res.destroyed || res.writableEnded) return;
    res.json({ fn: name, failure: failure.record ?? null, waitedMs: Date.now() - started } satisfies InstanceFailureAnswer);
    logger.info('failure_lookup', { fn: name, requestId: requestIdOf(req), cause: failure.record?.cause ?? 'none', waitedMs: Date.now() - started });
  }));

  app.post('/v1/functions/:name/wake', wrap(async (req, res) => {
    const started = Date.now();
    const name = String(req.params.name);
    const requestId = requestIdOf(req);
    const log = (outcome: string, status: number) =>
      logger.info('wake', { fn: name, requestId, outcome, status, waitedMs: Date.now() - started });
    try {
      checkName(name);
      const timeoutMs = parseIntParam(req.query.timeout_ms, WAKE_TIMEOUT_RULE) as number;
      requireRedis();
      if (deps.closing()) throw new ApiError('shutting_down', 'redis-rest is shutting down');

      let tier: WakeTier | undefined;
      let settle: (o: WakeOutcome | 'timeout' | 'disconnected') => void = () => undefined;
      const outcome = new Promise<WakeOutcome | 'timeout' | 'disconnected'>((resolve) => { settle = resolve; });
      // Registered before the state is read: a 'warm' published in between still reaches us.
      const unregister = wakes.register({ fn: name, requestId, settle: (o, t) => { tier ??= t; settle(o); } });
      const timer = setTimeout(() => settle('timeout'), timeoutMs);
      res.on('close', () => settle('disconnected'));
      try {
        const read = await store.readOne(name);
        if (!read.hashExists) throw notDeployed();
        if (!read.heartbeat) throw new ApiError('no_orchestrator', 'no orchestrator is running (heartbeat missing)', { fn: name });
        if (!read.record && !read.malformed) throw new ApiError('unknown_function', `no function named ${name} is defined`, { fn: name });
        if (read.record?.state !== 'warm') {
          wakes.activate(name);
          const o = await outcome;
          if (o === 'disconnected') return log('client_disconnected', 499);
          if (o === 'timeout') throw new ApiError('wake_timeout', `${name} did not become ready within ${timeoutMs} ms`, { fn: name });
          if (o === 'gone') throw new ApiError('unknown_function', `function ${name} was removed while waking`, { fn: name });
          if (o === 'closing') throw new ApiError('shutting_down', 'redis-rest is shutting down', { fn: name });
          // Which warm tier served this wake (x-faas-wake-tier), read back only when the state
          // message did not carry it (the republish tick saw 'warm'): it only informs, a failed read is no error.
          if (!tier) tier = (await store.readOne(name).catch((err: unknown) => void logger.warn('wake_tier_unread', { fn: name, requestId, error: err })))?.record?.wakeTier;
        }
      } finally {
        clearTimeout(timer);
        unregister();
      }
      const body: WakeResult = { fn: name, state: 'warm', waitedMs: Date.now() - started, ...(tier ? { tier } : {}) };
      res.json(body);
      log('warm', 200);
    } catch (err) {
      const api = asApiError(err);
      log(api.apiCode, api.status);
      throw api;
    }
  }));

  app.use((req: Request, res: Response) => {
    sendError(res, new ApiError('not_found', `no route ${req.method} ${req.path}`));
  });

  // Express recognises error middleware by its four parameters.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof ApiError) return sendError(res, err);
    const e = err as { type?: string; status?: number; message?: string };
    if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      const msg = e.type === 'entity.parse.failed' ? 'request body is not valid JSON' : `bad request: ${e.message ?? 'unreadable'}`;
      return sendError(res, new ApiError('invalid_request', msg));
    }
    const api = asApiError(err);
    if (api.status >= 500) logger.warn('request_failed', { path: _req.path, error: err });
    sendError(res, api);
  });

  return app;
}
