/**
 * The orchestrator-facing control API (contracts/src/xds-control-api.ts), over express.
 * Every input is validated; failures become a ControlApiError body with a fitting status.
 * Every /v1 call needs the shared internal secret (contracts/src/internal-auth.ts), else
 * 401 `unauthorized`; /healthz is open. The gRPC ADS port has none (routers cannot send it).
 */
import * as http from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { INTERNAL_AUTH, clientError, isAuthorized, type ControlApiError, type Logger, type RolloutResult } from '@faas/contracts';
import { ControlApiFailure, InvalidSpecError, ListenError } from './errors';
import type { ControlPlane } from './control-plane';
import { parseWaitMs, validateFunctionName, validateSpec } from './control-api-input';

function sendError(res: Response, e: ControlApiFailure): void {
  const body: ControlApiError = { error: e.apiCode, message: e.message };
  const ctx = e.context;
  if (typeof ctx.router === 'string') body.router = ctx.router;
  if (typeof ctx.detail === 'string') body.detail = ctx.detail;
  if (Array.isArray(ctx.pending)) body.pending = ctx.pending as string[];
  res.status(e.status).json(body);
}

async function rollout(cp: ControlPlane, fn: string, waitMs: number, startedAt: number): Promise<RolloutResult> {
  if (waitMs === 0) {
    // No wait asked: the change is applied to the snapshot; routers converge on their own.
    // Nothing was waited for, so nothing is known ACKed: `versions` is empty (one meaning).
    return { fn, versions: {}, snapshotVersions: { ...cp.snapshot.versions }, routers: [], elapsedMs: Date.now() - startedAt };
  }
  const r = await cp.waitForRollout(fn, waitMs);
  return { ...r, elapsedMs: Date.now() - startedAt };
}

/** `token`: the shared internal secret every /v1 call must carry (contracts' internal-auth). */
export function createApp(cp: ControlPlane, logger: Logger, token: string): express.Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  // Checked before the body is parsed: an unauthorized caller costs no JSON parse.
  app.use('/v1', (req: Request, res: Response, next: NextFunction) => {
    if (isAuthorized(req.headers[INTERNAL_AUTH.header], token)) return next();
    logger.warn('unauthorized', { method: req.method, path: req.path });
    const e = clientError('unauthorized', `${req.method} ${req.originalUrl} needs "${INTERNAL_AUTH.header}: ${INTERNAL_AUTH.scheme} <token>" (${INTERNAL_AUTH.env})`);
    res.status(e.status).json(e.body);
  });
  app.use(express.json({ limit: '2mb' }));

  app.get('/v1/functions', (_req, res) => {
    res.json({ functions: cp.functions() });
  });

  app.get('/v1/routers', (_req, res) => {
    res.json({ routers: cp.routers() });
  });

  app.put('/v1/functions/:name', async (req: Request<{ name: string }>, res: Response) => {
    const startedAt = Date.now();
    const fn = validateFunctionName(req.params.name);
    const waitMs = parseWaitMs(req.query.wait_ms);
    const spec = validateSpec(req.body, fn);
    await cp.update(fn, spec);
    logger.info('function_updated', { fn, endpoints: spec.endpoints.length, waitMs });
    res.json(await rollout(cp, fn, waitMs, startedAt));
  });

  app.delete('/v1/functions/:name', async (req: Request<{ name: string }>, res: Response) => {
    const startedAt = Date.now();
    const fn = validateFunctionName(req.params.name);
    const waitMs = parseWaitMs(req.query.wait_ms);
    if (!cp.has(fn)) throw new ControlApiFailure(404, 'not_found', `function ${fn} is not in the desired state`, { fn });
    await cp.update(fn, null);
    logger.info('function_removed', { fn, waitMs });
    res.json(await rollout(cp, fn, waitMs, startedAt));
  });

  app.use((req: Request, res: Response) => {
    sendError(res, new ControlApiFailure(404, 'not_found', `no route ${req.method} ${req.path}`));
  });

  // express needs the 4-argument signature to treat this as the error handler.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    void _next;
    if (err instanceof ControlApiFailure) {
      if (err.status >= 500) logger.warn('rollout_failed', { fn: String(req.params?.name ?? ''), code: err.apiCode, message: err.message });
      sendError(res, err);
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed' || e.type === 'entity.too.large' || e.status === 400) {
      sendError(res, new InvalidSpecError('body', `not valid JSON: ${e.message ?? 'parse error'}`));
      return;
    }
    logger.error('http_error', { message: e.message ?? String(err), path: req.path });
    res.status(500).json({ error: 'internal', message: e.message ?? 'internal error' });
  });
  return app;
}

export interface HttpApi {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

export async function startHttpApi(cp: ControlPlane, host: string, port: number, logger: Logger, token: string): Promise<HttpApi> {
  const server = http.createServer(createApp(cp, logger, token));
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => reject(new ListenError('http', host, port, err));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr !== null ? addr.port : port;
  return {
    server,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
