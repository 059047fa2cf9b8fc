import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type FunctionStates, type GatewayApiError, type WakeResult, createLogger } from '@faas/contracts';
import { type RedisProcess, startRedis } from '@faas/stack';
import { type RedisRestServer, startRedisRest } from '../src/index';
import { FakeOrchestrator } from './fake-orchestrator';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logLines: string[] = [];
const logger = createLogger('redis-rest', {}, (l) => { logLines.push(l); });

async function call(port: number, method: string, path: string, init: { headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, ...init });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, json, text };
}

describe('redis-rest without an orchestrator', () => {
  let redis: RedisProcess;
  let rest: RedisRestServer;
  before(async () => {
    redis = await startRedis();
    rest = await startRedisRest({ redisUrl: redis.url, stack: `rr-${randomUUID().slice(0, 8)}`, logger });
  });
  after(async () => {
    await rest?.close();
    await redis?.stop();
  });

  test('healthz is up', async () => {
    const r = await call(rest.port, 'GET', '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { ok: true, redis: 'up' });
  });

  test('503 platform_unavailable with Retry-After when the functions hash is missing', async () => {
    for (const [m, p] of [['POST', '/v1/functions/hello/wake'], ['GET', '/v1/functions'], ['GET', '/v1/functions/hello']] as const) {
      const r = await call(rest.port, m, p);
      assert.equal(r.status, 503, `${m} ${p}`);
      assert.equal((r.json as GatewayApiError).error, 'platform_unavailable');
      assert.ok(r.headers.get('retry-after'));
    }
  });

  test('bad input gets 400 JSON naming what was wrong; unknown routes 404 JSON', async () => {
    let r = await call(rest.port, 'POST', '/v1/functions/Hello/wake');
    assert.equal(r.status, 400);
    assert.equal((r.json as GatewayApiError).error, 'invalid_name');
    r = await call(rest.port, 'POST', '/v1/functions/healthz/wake');
    assert.equal((r.json as GatewayApiError).error, 'invalid_name');
    r = await call(rest.port, 'POST', '/v1/functions/hello/wake?timeout_ms=0');
    assert.equal(r.status, 400);
    assert.match((r.json as GatewayApiError).message, /timeout_ms/);
    r = await call(rest.port, 'GET', '/v1/functions?after=x');
    assert.equal(r.status, 400);
    assert.match((r.json as GatewayApiError).message, /after/);
    r = await call(rest.port, 'GET', '/v1/functions?after=1&wait_ms=70000');
    assert.match((r.json as GatewayApiError).message, /wait_ms/);
    r = await call(rest.port, 'POST', '/v1/functions/hello/wake', { headers: { 'content-type': 'application/json' }, body: '{bad' });
    assert.equal(r.status, 400);
    assert.equal((r.json as GatewayApiError).error, 'invalid_request');
    r = await call(rest.port, 'GET', '/nope');
    assert.equal(r.status, 404);
    assert.equal((r.json as GatewayApiError).error, 'invalid_request');
  });
});

describe('redis-rest with a fake orchestrator', () => {
  let redis: RedisProcess;
  let rest: RedisRestServer;
  let orch: FakeOrchestrator;
  before(async () => {
    redis = await startRedis();
    const stack = `rr-${randomUUID().slice(0, 8)}`;
    orch = new FakeOrchestrator(redis.url, stack, {
      warmfn: { state: 'warm' }, coldfn: { startMs: 300 }, burst: { startMs: 400 }, never: { neverReady: true },
      gone: { neverReady: true }, poll: {}, quit: { neverReady: true },
    });
    await orch.start();
    rest = await startRedisRest({ redisUrl: redis.url, stack, logger, wakeRepublishMs: 300 });
  });
  after(async () => {
    await rest?.close();
    await orch?.stop();
    await redis?.stop();
  });

  test('unknown function: 404 unknown_function', async () => {
    const r = await call(rest.port, 'POST', '/v1/functions/nosuch/wake');
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, { error: 'unknown_function', message: 'no function named nosuch is defined', fn: 'nosuch' });
    assert.equal((await call(rest.port, 'GET', '/v1/functions/nosuch')).status, 404);
  });

  test('warm function: 200 at once and no wake published', async () => {
    const r = await call(rest.port, 'POST', '/v1/functions/warmfn/wake', { headers: { 'x-request-id': 'rid-warm' } });
    assert.equal(r.status, 200);
    const body = r.json as WakeResult;
    assert.equal(body.fn, 'warmfn');
    assert.equal(body.state, 'warm');
    await sleep(50);
    assert.equal(orch.wakesFor('warmfn'), 0);
    assert.ok(logLines.some((l) => l.includes('"event":"wake"') && l.includes('"requestId":"rid-warm"') && l.includes('"fn":"warmfn"')));
  });

  test('cold function: long poll until warm, one wake carrying the request id', async () => {
    const r = await call(rest.port, 'POST', '/v1/functions/coldfn/wake?timeout_ms=5000', { headers: { 'x-request-id': 'rid-cold' } });
    assert.equal(r.status, 200);
    assert.ok((r.json as WakeResult).waitedMs >= 250);
    assert.equal(orch.starts.get('coldfn'), 1);
    assert.equal(orch.wakes.find((w) => w.fn === 'coldfn')?.requestId, 'rid-cold');
    const rec = await call(rest.port, 'GET', '/v1/functions/coldfn');
    assert.equal((rec.json as { state: string }).state, 'warm');
  });

  test('20 concurrent wakes: all 200, one start, wakes coalesced', async () => {
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => call(rest.port, 'POST', `/v1/functions/burst/wake`, { headers: { 'x-request-id': `b${i}` } })));
    assert.deepEqual(all.map((r) => r.status), Array(20).fill(200));
    assert.equal(orch.starts.get('burst'), 1);
    assert.ok(orch.wakesFor('burst') <= 3, `wakes published: ${orch.wakesFor('burst')}`);
  });

  test('deadline: 504 wake_timeout, and wakes re-published meanwhile', async () => {
    const r = await call(rest.port, 'POST', '/v1/functions/never/wake?timeout_ms=1000');
    assert.equal(r.status, 504);
    assert.equal((r.json as GatewayApiError).error, 'wake_timeout');
    assert.ok(orch.wakesFor('never') >= 3, `re-published every 300 ms, got ${orch.wakesFor('never')}`);
  });

  test('client disconnect removes the waiter: wakes stop', async () => {
    const ac = new AbortController();
    const p = call(rest.port, 'POST', '/v1/functions/quit/wake', { signal: ac.signal }).catch(() => 'aborted');
    await sleep(400);
    ac.abort();
    assert.equal(await p, 'aborted');
    await sleep(100);
    const n = orch.wakesFor('quit');
    assert.ok(n >= 1);
    await sleep(800);
    assert.equal(orch.wakesFor('quit'), n, 'no wake after the only waiter left');
  });

  test('long poll on /v1/functions answers when the rev moves, or at wait_ms', async () => {
    const first = (await call(rest.port, 'GET', '/v1/functions')).json as FunctionStates;
    assert.equal(first.functions.warmfn, 'warm');
    const t0 = Date.now();
    const held = call(rest.port, 'GET', `/v1/functions?after=${first.rev}&wait_ms=5000`);
    await sleep(200);
    await orch.setState('poll', 'starting');
    const r = (await held).json as FunctionStates;
    assert.ok(r.rev > first.rev);
    assert.equal(r.functions.poll, 'starting');
    assert.ok(Date.now() - t0 < 2000);
    const t1 = Date.now();
    const same = (await call(rest.port, 'GET', `/v1/functions?after=${r.rev}&wait_ms=300`)).json as FunctionStates;
    assert.equal(same.rev, r.rev);
    assert.ok(Date.now() - t1 >= 280);
    // A rev from the future (Redis lost its data) answers at once.
    const t2 = Date.now();
    await call(rest.port, 'GET', `/v1/functions?after=${r.rev + 1000}&wait_ms=5000`);
    assert.ok(Date.now() - t2 < 1000);
  });

  test('function removed while waking: 404', async () => {
    const p = call(rest.port, 'POST', '/v1/functions/gone/wake?timeout_ms=5000');
    await sleep(200);
    await orch['redis'].hdel(orch.keys.functions, 'gone');
    const r = await p;
    assert.equal(r.status, 404);
    assert.equal((r.json as GatewayApiError).error, 'unknown_function');
  });

  test('no heartbeat: 503 platform_unavailable', async () => {
    await orch.stopHeartbeat();
    try {
      const r = await call(rest.port, 'POST', '/v1/functions/coldfn/wake');
      assert.equal(r.status, 503);
      assert.match((r.json as GatewayApiError).message, /heartbeat/);
    } finally {
      await orch.startHeartbeat();
    }
  });
});

test('survives a Redis restart: 503 while down, serves again after', async (t) => {
  const redis1 = await startRedis();
  const port = redis1.port;
  let redis2: RedisProcess | undefined;
  const stack = `rr-${randomUUID().slice(0, 8)}`;
  const rest = await startRedisRest({ redisUrl: redis1.url, stack, logger, wakeRepublishMs: 200 });
  t.after(async () => {
    await rest.close();
    await redis1.stop();
    await redis2?.stop();
  });
  assert.equal((await call(rest.port, 'GET', '/healthz')).status, 200);
  await redis1.stop();
  await sleep(100);
  const down = await call(rest.port, 'GET', '/healthz');
  assert.equal(down.status, 503);
  assert.equal((down.json as GatewayApiError).error, 'platform_unavailable');
  assert.equal((await call(rest.port, 'POST', '/v1/functions/a/wake')).status, 503);
  redis2 = await startRedis({ port });
  const orch = new FakeOrchestrator(redis2.url, stack, { back: { startMs: 100 } });
  t.after(() => orch.stop());
  const deadline = Date.now() + 10_000;
  while ((await call(rest.port, 'GET', '/healthz')).status !== 200) {
    assert.ok(Date.now() < deadline, 'redis-rest did not reconnect');
    await sleep(100);
  }
  await orch.start();
  // The subscriber re-subscribed too: a wake resolves via the state channel (or the tick read-back).
  const r = await call(rest.port, 'POST', '/v1/functions/back/wake?timeout_ms=5000');
  assert.equal(r.status, 200);
});
