/** Shared test helpers: a quiet server with recorded events, and HTTP calls to its API. */
import { authorizationHeader, createLogger, type ControlApiError, type EndpointSpec, type FunctionRouteSpec, type RolloutResult, type RouterStatus } from '@faas/contracts';
import type { TestContext } from 'node:test';
import { startXdsServer, type XdsEvent, type XdsServerHandle, type XdsServerOptions } from '../src/index';
import { SotwAdsClient, type NackPredicate } from './helpers/ads-client';

/** Silent unless XDS_TEST_LOGS=1. */
export const quietLogger = createLogger('xds-test', {}, process.env.XDS_TEST_LOGS === '1' ? (l) => process.stderr.write(l) : () => undefined);

/** The internal API secret every test server is started with (contracts' token pattern). */
export const TEST_TOKEN = 'test-token-0123456789abcdef0123456789';

/** Server options of a test: the token is supplied by the harness. */
export type TestServerOptions = Omit<XdsServerOptions, 'internalToken'> & { internalToken?: string };

export interface TestServer extends XdsServerHandle {
  /** The server itself (older call sites read srv.handle.grpcPort). */
  handle: XdsServerHandle;
  /** Typed control API calls (putOk, delOk, routers...). */
  control: ControlApiClient;
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

/** `events`: where the server's events are recorded (a test may keep one array across restarts). */
export async function startTestServer(opts: TestServerOptions = {}, events: XdsEvent[] = []): Promise<TestServer> {
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
    handle: h,
    control: new ControlApiClient(h.httpPort),
    events,
    waitFor,
    api,
    put: (spec: FunctionRouteSpec, waitMs = 3000) => api('PUT', `/v1/functions/${spec.name}?wait_ms=${waitMs}`, spec),
    del: (fn: string, waitMs = 3000) => api('DELETE', `/v1/functions/${fn}?wait_ms=${waitMs}`),
    responsesFor: (nodeId: string) => events.filter((e): e is Extract<XdsEvent, { kind: 'response' }> => e.kind === 'response' && e.nodeId === nodeId),
  });
}

type EndpointTuple = [string, number, ('HEALTHY' | 'DRAINING')?];

/** A FunctionRouteSpec: endpoints as [address, port, health?] (ids made up) or full EndpointSpecs. */
export function spec(name: string, endpoints: (EndpointTuple | EndpointSpec)[] = [['127.0.0.1', 9001]], extra: Partial<FunctionRouteSpec> = {}): FunctionRouteSpec {
  return {
    name,
    timeoutMs: 5000,
    concurrency: 2,
    endpoints: endpoints.map((e, i) => (Array.isArray(e) ? { id: `${name}-${i}`, address: e[0], port: e[1], health: e[2] ?? 'HEALTHY' } : e)),
    ...extra,
  };
}

export type ApiReply<T> = { status: number; body: T | ControlApiError };

export class ControlApiClient {
  constructor(readonly port: number) {}

  private async req<T>(method: string, p: string, body?: unknown): Promise<ApiReply<T>> {
    const res = await fetch(`http://127.0.0.1:${this.port}${p}`, {
      method,
      headers: { ...authorizationHeader(TEST_TOKEN), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T | ControlApiError };
  }

  put(spec: FunctionRouteSpec, waitMs = 10_000): Promise<ApiReply<RolloutResult>> {
    return this.req('PUT', `/v1/functions/${spec.name}?wait_ms=${waitMs}`, spec);
  }

  del(fn: string, waitMs = 10_000): Promise<ApiReply<RolloutResult>> {
    return this.req('DELETE', `/v1/functions/${fn}?wait_ms=${waitMs}`);
  }

  routers(): Promise<ApiReply<{ routers: RouterStatus[] }>> {
    return this.req('GET', '/v1/routers');
  }

  /** PUT and insist on 200 (message shows the API error otherwise). */
  async putOk(spec: FunctionRouteSpec, waitMs = 10_000): Promise<RolloutResult> {
    const r = await this.put(spec, waitMs);
    if (r.status !== 200) throw new Error(`PUT ${spec.name} -> ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as RolloutResult;
  }

  async delOk(fn: string, waitMs = 10_000): Promise<RolloutResult> {
    const r = await this.del(fn, waitMs);
    if (r.status !== 200) throw new Error(`DELETE ${fn} -> ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as RolloutResult;
  }
}


/** An Envoy-like SotW router on `port` holding its first route configuration; closed after `t`. */
export async function routedSotw(t: TestContext, port: number, nodeId: string, nackIf: NackPredicate | null = null): Promise<SotwAdsClient> {
  const c = new SotwAdsClient(port, { nodeId });
  c.nackIf = nackIf;
  c.start();
  t.after(() => c.close());
  await c.until((x) => x.acked.route !== '', 'initial route');
  return c;
}
