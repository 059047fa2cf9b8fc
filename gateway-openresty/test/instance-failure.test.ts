/**
 * The router's instance_failed reply (X-Accel-Redirect to the gateway's named location,
 * contracts/instance-failures.ts) becomes 502 out_of_memory when the orchestrator recorded an OOM
 * kill of the function during the request, and stays instance_failed otherwise: no record within
 * the bounded wait, another cause, a record older than the request, redis-rest down. A function's
 * own 502 passes through untouched, and its own X-Accel-Redirect cannot reach the internal calls. Real nginx + Lua, redis-rest and Redis; a fake router.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HEADERS, type InstanceFailureRecord, ROUTER_FAILURE_REDIRECT } from '@faas/contracts';
import type { Gateway } from '../src/index';
import { type Backends, assertClientError, startBackends, startHttpServer, startPrimedGateway, stopBackends } from './harness';

/** What the fake router does before (or after) its instance_failed reply, by function. */
const BEHAVIOUR: Record<string, { record?: Omit<InstanceFailureRecord, 'fn' | 'at'>; when?: 'before' | 'after'; ageMs?: number }> = {
  oomfirst: { record: { instance: 'aaa111', cause: 'oom', memoryMb: 64, exitCode: 137 }, when: 'before' },
  oomlater: { record: { instance: 'bbb222', cause: 'oom', memoryMb: 64 }, when: 'after' },
  crashed: { record: { instance: 'ccc333', cause: 'exited', exitCode: 1 }, when: 'before' },
  stale: { record: { instance: 'ddd444', cause: 'oom' }, when: 'before', ageMs: 60_000 },
  silent: {},
  down: {},
};

describe('instance failures through the gateway', () => {
  let b: Backends;
  let gw: Gateway;
  let router: Awaited<ReturnType<typeof startHttpServer>>;
  const url = (p: string) => `http://127.0.0.1:${gw.port}${p}`;

  before(async () => {
    b = await startBackends({
      ...Object.fromEntries([...Object.keys(BEHAVIOUR), 'own', 'sneaky'].map((fn) => [fn, { state: 'warm' as const }])),
      victim: { state: 'cold' },
    });
    router = await startHttpServer((req, res) => {
      const fn = (req.url ?? '/').split('/')[1] ?? '';
      if (fn === 'sneaky') {
        // A function pointing nginx at the gateway's internal wake call (it would carry the token).
        res.writeHead(200, { [ROUTER_FAILURE_REDIRECT.header]: '/_faas/wake/victim?timeout_ms=1000' });
        res.end('redirected');
        return;
      }
      if (fn === 'own') {
        // A function's own 502: no redirect header, passed through untouched.
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('the function says 502');
        return;
      }
      const how = BEHAVIOUR[fn] ?? {};
      const record = async () => {
        if (how.record) await b.orch.recordFailure({ ...how.record, fn, at: Date.now() - (how.ageMs ?? 0) });
      };
      const reply = () => {
        // The router's local reply for UC, as xds-server's local_reply_config renders it.
        res.writeHead(502, { 'content-type': 'application/json', [ROUTER_FAILURE_REDIRECT.header]: ROUTER_FAILURE_REDIRECT.location });
        res.end(JSON.stringify({ error: 'instance_failed', message: 'upstream connect error', fn }));
      };
      req.resume();
      req.on('end', () => {
        if (how.when === 'before') void record().then(reply);
        else {
          reply();
          res.on('finish', () => void record());
        }
      });
    });
    gw = await startPrimedGateway(b, { workers: 1, routerPort: router.port });
  });

  after(async () => {
    await gw?.stop();
    await router?.close();
    await stopBackends(b);
  });

  const call = async (fn: string) => {
    const res = await fetch(url(`/${fn}/x`), { method: 'POST', body: 'payload', headers: { [HEADERS.requestId]: `rid-${fn}` } });
    const body = await res.text();
    const parsed = assertClientError(res.status, res.headers.get('content-type'), body, JSON.parse(body).error as string);
    assert.equal(parsed.fn, fn);
    assert.equal(parsed.requestId, `rid-${fn}`);
    return parsed;
  };

  test('an OOM kill recorded before the lookup: 502 out_of_memory naming the function and the instance', async () => {
    const body = await call('oomfirst');
    assert.equal(body.error, 'out_of_memory');
    assert.match(body.message, /aaa111.*oomfirst.*memory_mb 64/);
  });

  test('an OOM kill recorded after the router answered: the bounded wait resolves on it', async () => {
    assert.equal((await call('oomlater')).error, 'out_of_memory');
  });

  test('another cause, a record from before the request, or no record at all: instance_failed', async () => {
    assert.equal((await call('crashed')).error, 'instance_failed');
    assert.equal((await call('stale')).error, 'instance_failed');
    assert.equal((await call('silent')).error, 'instance_failed');
  });

  test("a function's own 502 passes through untouched", async () => {
    const res = await fetch(url('/own/x'));
    assert.equal(res.status, 502);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(await res.text(), 'the function says 502');
  });

  test("a function's X-Accel-Redirect cannot reach the gateway's internal redis-rest calls", async () => {
    const res = await fetch(url('/sneaky/x'));
    const body = await res.text();
    assert.notEqual(res.status, 200, body);
    assertClientError(res.status, res.headers.get('content-type'), body, JSON.parse(body).error as string);
    assert.equal(b.orch.wakesFor('victim'), 0, 'no wake was published');
  });

  test('redis-rest down: instance_failed, never an error of the lookup', async () => {
    await b.rest?.close();
    b.rest = undefined;
    assert.equal((await call('down')).error, 'instance_failed');
  });
});
