/** Shared test helpers: a quiet server with recorded events, and HTTP calls to its API. */
import { authorizationHeader, createLogger, type FunctionRouteSpec } from '@faas/contracts';
import { startXdsServer, type XdsEvent, type XdsServerHandle, type XdsServerOptions } from '../src/index';

export const quietLogger = createLogger('xds-test', {}, () => {});

/** The internal API secret every test server is started with (contracts' token pattern). */
export const TEST_TOKEN = 'test-token-0123456789abcdef0123456789';

/** Server options of a test: the token is supplied by the harness. */
export type TestServerOptions = Omit<XdsServerOptions, 'internalToken'> & { internalToken?: string };

export interface TestServer extends XdsServerHandle {
  events: XdsEvent[];
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  put(spec: FunctionRouteSpec, waitMs?: number): Promise<{ status: number; body: Record<string, unknown> }>;
  del(fn: string, waitMs?: number): Promise<{ status: number; body: Record<string, unknown> }>;
  responsesFor(nodeId: string): Extract<XdsEvent, { kind: 'response' }>[];
  /**
   * The first event from index `from` on that matches, waited for up to `ms` (then fails
   * naming `what`). The server handles a request in one step, so once its ack/stale event
   * is seen, every response that request caused has been emitted too.
   */
  waitFor(pred: (e: XdsEvent) => boolean, what: string, from?: number, ms?: number): Promise<XdsEvent>;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const events: XdsEvent[] = [];
  const listeners = new Set<(e: XdsEvent) => void>();
  const onEvent = (e: XdsEvent): void => {
    events.push(e);
    for (const l of [...listeners]) l(e);
    opts.onEvent?.(e);
  };
  const h = await startXdsServer({ logger: quietLogger, internalToken: TEST_TOKEN, ...opts, onEvent });
  const waitFor = (pred: (e: XdsEvent) => boolean, what: string, from = 0, ms = 3000): Promise<XdsEvent> => {
    const seen = events.slice(from).find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<XdsEvent>((resolve, reject) => {
      const done = (e: XdsEvent): void => {
        if (!pred(e)) return;
        listeners.delete(done);
        clearTimeout(timer);
        resolve(e);
      };
      const timer = setTimeout(() => {
        listeners.delete(done);
        reject(new Error(`no event within ${ms}ms: ${what}`));
      }, ms);
      listeners.add(done);
    });
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${h.httpPort}${path}`, {
      method,
      headers: { ...authorizationHeader(TEST_TOKEN), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return Object.assign(h, {
    events,
    waitFor,
    api,
    put: (spec: FunctionRouteSpec, waitMs = 3000) => api('PUT', `/v1/functions/${spec.name}?wait_ms=${waitMs}`, spec),
    del: (fn: string, waitMs = 3000) => api('DELETE', `/v1/functions/${fn}?wait_ms=${waitMs}`),
    responsesFor: (nodeId: string) => events.filter((e): e is Extract<XdsEvent, { kind: 'response' }> => e.kind === 'response' && e.nodeId === nodeId),
  });
}

export function spec(name: string, endpoints: [string, number, ('HEALTHY' | 'DRAINING')?][] = [['127.0.0.1', 9001]], extra: Partial<FunctionRouteSpec> = {}): FunctionRouteSpec {
  return {
    name,
    timeoutMs: 5000,
    concurrency: 2,
    endpoints: endpoints.map(([address, port, health], i) => ({ id: `${name}-${i}`, address, port, health: health ?? 'HEALTHY' })),
    ...extra,
  };
}
