import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { type FunctionStates, type GatewayApiError, type WakeResult, authorizationHeader, createLogger } from '@faas/contracts';
import { type RedisProcess, startRedis } from '@faas/stack';
import { type RedisRestServer, startRedisRest } from '../src/index';
import { FakeOrchestrator } from '@faas/stack/dist/src/fake-orchestrator';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logLines: string[] = [];
const logger = createLogger('redis-rest', {}, (l) => { logLines.push(l); });
const internalToken = randomBytes(24).toString('hex');

/** Waits (bounded) until check() holds: for events the test cannot await directly. */
async function eventually(what: string, check: () => boolean | Promise<boolean>, boundMs = 10_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `never happened: ${what}`);
    await sleep(20);
  }
}

/** A call with the shared secret unless `auth: false` (or other headers replace it). */
async function call(port: number, method: string, path: string, init: { headers?: Record<string, string>; body?: string; signal?: AbortSignal; auth?: boolean } = {}) {
  const { auth, ...rest } = init;
  const headers = { ...(auth === false ? {} : authorizationHeader(internalToken)), ...init.headers };
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, ...rest, headers });
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
    rest = await startRedisRest({ redisUrl: redis.url, stack: `rr-${randomUUID().slice(0, 8)}`, logger, internalToken });
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

  test('every /v1 route needs the shared secret: 401 unauthorized JSON; /healthz is open', async () => {
    for (const [m, p] of [['POST', '/v1/functions/hello/wake'], ['GET', '/v1/functions'], ['GET', '/v1/functions/hello'], ['GET', '/v1/nope']] as const) {
      for (const headers of [undefined, { authorization: 'Bearer wrong' }, { authorization: internalToken }]) {
        const r = await call(rest.port, m, p, { auth: false, ...(headers ? { headers } : {}) });
        assert.equal(r.status, 401, `${m} ${p} ${JSON.stringify(headers)}`);
        assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal((r.json as GatewayApiError).error, 'unauthorized');
      }
    }
    assert.equal((await call(rest.port, 'GET', '/healthz', { auth: false })).status, 200);
  });

  test('503 not_deployed with Retry-After when the functions hash is missing', async () => {
    for (const [m, p] of [['POST', '/v1/functions/hello/wake'], ['GET', '/v1/functions'], ['GET', '/v1/functions/hello']] as const) {
      const r = await call(rest.port, m, p);
      assert.equal(r.status, 503, `${m} ${p}`);
      assert.equal((r.json as GatewayApiError).error, 'not_deployed');
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
    assert.equal((r.json as GatewayApiError).error, 'not_found');
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
      gone: { neverReady: true }, poll: {}, quit: { neverReady: true }, tiered: { startMs: 100, messageTier: 'paused' },
    });
    await orch.start();
    rest = await startRedisRest({ redisUrl: redis.url, stack, logger, wakeRepublishMs: 300, internalToken });
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
    assert.ok(logLines.some((l) => l.includes('"event":"wake"') && l.includes('"requestId":"rid-warm"') && l.includes('"fn":"warmfn"')));
  });

  test('cold function: long poll until warm, one wake carrying the request id', async () => {
    const r = await call(rest.port, 'POST', '/v1/functions/coldfn/wake?timeout_ms=5000', { headers: { 'x-request-id': 'rid-cold' } });
    assert.equal(r.status, 200);
    assert.equal((r.json as WakeResult).state, 'warm');
    assert.equal(orch.starts.get('coldfn'), 1);
    // Pub/sub keeps order on one channel: had the warm function been woken before, that wake came first.
    assert.equal(orch.wakesFor('warmfn'), 0, 'a warm function is answered without a wake');
    assert.equal(orch.wakes.find((w) => w.fn === 'coldfn')?.requestId, 'rid-cold');
    const rec = await call(rest.port, 'GET', '/v1/functions/coldfn');
    assert.equal((rec.json as { state: string }).state, 'warm');
  });

  test('the warm tier named by the state message is in the answer (no read back)', async () => {
    const r = await call(rest.port, 'POST', '/v1/functions/tiered/wake?timeout_ms=5000');
    assert.equal(r.status, 200);
    assert.equal((r.json as { tier?: string }).tier, 'paused');
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
    // The interval itself is proven on mock timers (wake-hub.test.ts); here: more than the first publish.
    assert.ok(orch.wakesFor('never') >= 2, `re-published while waiting, got ${orch.wakesFor('never')}`);
  });

  test('client disconnect removes the waiter (logged as client_disconnected)', async () => {
    const ac = new AbortController();
    const p = call(rest.port, 'POST', '/v1/functions/quit/wake', { signal: ac.signal }).catch(() => 'aborted');
    await eventually('the wake for quit is published', () => orch.wakesFor('quit') >= 1);
    ac.abort();
    assert.equal(await p, 'aborted');
    // That a removed waiter stops the republishing is proven on mock timers (wake-hub.test.ts).
    await eventually('the disconnect is logged', () => logLines.some((l) => l.includes('"fn":"quit"') && l.includes('"outcome":"client_disconnected"')));
  });

  // wait_ms=60000 (the maximum) on a 20 s test timeout: an answer proves it came from the event, not the wait.
  test('long poll on /v1/functions answers when the rev moves, or at wait_ms', { timeout: 20_000 }, async () => {
    const first = (await call(rest.port, 'GET', '/v1/functions')).json as FunctionStates;
    assert.equal(first.functions.warmfn, 'warm');
    const held = call(rest.port, 'GET', `/v1/functions?after=${first.rev}&wait_ms=60000`);
    await orch.setState('poll', 'starting');
    const r = (await held).json as FunctionStates;
    assert.ok(r.rev > first.rev);
    assert.equal(r.functions.poll, 'starting');
    const same = (await call(rest.port, 'GET', `/v1/functions?after=${r.rev}&wait_ms=300`)).json as FunctionStates;
    assert.equal(same.rev, r.rev, 'nothing changed: the same rev at wait_ms');
    // A rev from the future (Redis lost its data) answers at once.
    const future = (await call(rest.port, 'GET', `/v1/functions?after=${r.rev + 1000}&wait_ms=60000`)).json as FunctionStates;
    assert.equal(future.rev, r.rev);
  });

  test('function removed while waking: 404', async () => {
    const p = call(rest.port, 'POST', '/v1/functions/gone/wake?timeout_ms=5000');
    await eventually('the wake for gone is published', () => orch.wakesFor('gone') >= 1);
    await orch['redis'].hdel(orch.keys.functions, 'gone');
    const r = await p;
    assert.equal(r.status, 404);
    assert.equal((r.json as GatewayApiError).error, 'unknown_function');
  });

  test('no heartbeat: 503 no_orchestrator', async () => {
    await orch.stopHeartbeat();
    try {
      const r = await call(rest.port, 'POST', '/v1/functions/coldfn/wake');
      assert.equal(r.status, 503);
      assert.equal((r.json as GatewayApiError).error, 'no_orchestrator');
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
  const rest = await startRedisRest({ redisUrl: redis1.url, stack, logger, wakeRepublishMs: 200, internalToken });
  t.after(async () => {
    await rest.close();
    await redis1.stop();
    await redis2?.stop();
  });
  assert.equal((await call(rest.port, 'GET', '/healthz')).status, 200);
  await redis1.stop();
  await eventually('healthz says Redis is down', async () => (await call(rest.port, 'GET', '/healthz')).status === 503);
  const down = await call(rest.port, 'GET', '/healthz');
  assert.equal((down.json as GatewayApiError).error, 'redis_unavailable');
  await eventually('the subscriber logs its error as one JSON line', () => logLines.some((l) => l.includes('"event":"redis_error"') && l.includes('"connection":"subscriber"')));
  assert.equal((await call(rest.port, 'POST', '/v1/functions/a/wake')).status, 503);
  redis2 = await startRedis({ port });
  const orch = new FakeOrchestrator(redis2.url, stack, { back: { startMs: 100 } });
  t.after(() => orch.stop());
  await eventually('redis-rest reconnects', async () => (await call(rest.port, 'GET', '/healthz')).status === 200);
  await orch.start();
  // The subscriber re-subscribed too: a wake resolves via the state channel (or the tick read-back).
  const r = await call(rest.port, 'POST', '/v1/functions/back/wake?timeout_ms=5000');
  assert.equal(r.status, 200);
});
