import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { type RedisProcess, startRedis } from '@faas/stack';
import { type DemandAlert, createLogger, parseDemandAlert, parseFunctionMetrics, redisKeys } from '@faas/contracts';
import { type StatsdListener, startStatsdListener } from '../src/listener';

let redis: RedisProcess;
let client: Redis;
let listener: StatsdListener;
const stack = `t-${randomUUID().slice(0, 8)}`;
const keys = redisKeys(stack);
const quiet = createLogger('statsd-listener', {}, () => undefined);

before(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  client.on('error', () => undefined); // the test fails on its own commands; nothing to log here
  // The defined functions: fields of the orchestrator's `functions` hash.
  await client.hset(keys.functions, { echo: '{}', burst: '{}', idle: '{}' });
  listener = await startStatsdListener({ port: 0, redisUrl: redis.url, stack, windowMs: 100, definedRefreshMs: 100, logger: quiet });
});
after(async () => {
  await listener?.close();
  client?.disconnect();
  await redis?.stop();
});

function send(sock: dgram.Socket, text: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => sock.send(text, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('real UDP datagrams from two routers end up summed in the Redis hash', async () => {
  const r1 = dgram.createSocket('udp4');
  const r2 = dgram.createSocket('udp4');
  try {
    await send(r1, 'envoy.cluster.fn-echo.upstream_rq_active:3|g', listener.port);
    await send(r1, 'envoy.cluster.fn-echo.upstream_rq_pending_active:2|g\nenvoy.cluster.fn-echo.upstream_rq_total:10|c', listener.port);
    await send(r2, 'envoy.cluster.fn-echo.upstream_rq_active:4|g\nenvoy.cluster.fn-echo.upstream_rq_pending_overflow:1|c', listener.port);
    await send(r2, 'envoy.cluster.fn-echo.upstream_cx_none_healthy:5|c\nthis is not statsd\nenvoy.cluster.fn-ghost.upstream_rq_active:9|g\nenvoy.cluster.fn-echo.upstream_rq_pending_active:+1|g', listener.port);
    const h = await waitFor(async () => {
      const v = await client.hgetall(keys.metrics('echo'));
      return v.rqActive === '7' && v.rqPendingActive === '3' ? v : undefined; // all four datagrams in
    });
    const m = parseFunctionMetrics(h);
    assert.ok(m, JSON.stringify(h));
    assert.deepEqual(Object.keys(h).sort(), ['latencyMedianMs', 'latencyP99Ms', 'noneHealthy', 'pendingOverflow', 'routers', 'rqActive', 'rqPendingActive', 'rqPerSecond', 'updatedAt', 'windowMs']);
    assert.equal(m.windowMs, 100);
    // The ghost line came in the same datagram as the echo lines now in Redis: no key for it.
    assert.equal(await client.exists(keys.metrics('ghost')), 0);
    // A defined function nobody reports on is still published, with zeros.
    const idle = parseFunctionMetrics(await client.hgetall(keys.metrics('idle')));
    assert.equal(idle?.routers, 0);
    assert.equal(idle?.rqActive, 0);
    assert.equal(Number(h.routers), 2);
    assert.ok(Number(h.updatedAt) > 0);
    assert.ok(h.rqPerSecond !== undefined && h.pendingOverflow !== undefined && h.noneHealthy !== undefined);
    const ttl = await client.pttl(keys.metrics('echo'));
    assert.ok(ttl > 0 && ttl <= 500, `ttl ${ttl}`);
    const c = await waitFor(async () => {
      const v = await client.hgetall(keys.statsdCounters);
      return Number(v.malformed) >= 1 ? v : undefined;
    });
    assert.equal(c.received, '4');
    assert.equal(c.lines, '9');
    assert.equal(c.malformed, '1');
    const { alerts, ...totals } = listener.counters();
    assert.deepEqual(totals, { received: 4, lines: 9, malformed: 1 });
    assert.ok(alerts >= 1, 'the pending gauge sent a demand alert');
  } finally {
    r1.close();
    r2.close();
  }
});

test('a counter burst shows up as a rate in one window', async () => {
  const r = dgram.createSocket('udp4');
  try {
    // Keep sending until one window captured the overflow (windows are 100 ms; UDP on loopback).
    const h = await waitFor(async () => {
      await send(r, 'envoy.cluster.fn-burst.upstream_rq_pending_overflow:3|c\nenvoy.cluster.fn-burst.upstream_rq_total:5|c', listener.port);
      const v = await client.hgetall(keys.metrics('burst'));
      return Number(v.pendingOverflow) >= 3 ? v : undefined;
    });
    assert.ok(Number(h.rqPerSecond) >= 50);
  } finally {
    r.close();
  }
});

test('a function defined later is picked up by the refresh; an undefined one is dropped', async () => {
  assert.equal(await client.exists(keys.metrics('late')), 0);
  await client.hset(keys.functions, 'late', '{}');
  const h = await waitFor(async () => {
    const v = await client.hgetall(keys.metrics('late'));
    return v.routers === '0' ? v : undefined;
  });
  assert.equal(parseFunctionMetrics(h)?.rqActive, 0);
  await client.hdel(keys.functions, 'idle');
  // A window may still carry `idle` (its refresh came before the delete); the write of `late`
  // shows when that window is in Redis, and a refresh started after the delete by then.
  const republished = async () => {
    await client.del(keys.metrics('late'));
    await waitFor(async () => ((await client.exists(keys.metrics('late'))) === 1 ? true : undefined));
  };
  await republished();
  await republished();
  await client.del(keys.metrics('idle'));
  await republished();
  assert.equal(await client.exists(keys.metrics('idle')), 0);
});

test('queued requests are published at once on the demand channel, at most once per interval per function', async () => {
  // Its own stack and clock: the bound is checked by the clock, not by waiting.
  const stack2 = `t-${randomUUID().slice(0, 8)}`;
  const keys2 = redisKeys(stack2);
  await client.hset(keys2.functions, { busy: '{}' });
  let now = 1_000_000;
  const l2 = await startStatsdListener({ port: 0, redisUrl: redis.url, stack: stack2, windowMs: 60_000, alertMinIntervalMs: 1000, now: () => now, logger: quiet });
  const sub = new Redis(redis.url);
  const r = dgram.createSocket('udp4');
  const got: DemandAlert[] = [];
  try {
    sub.on('message', (_ch: string, raw: string) => {
      const a = parseDemandAlert(raw);
      assert.ok(a, raw);
      got.push(a);
    });
    await sub.subscribe(keys2.demandChannel);
    // No queue: figures only, no alert. Then a router reports 3 queued: an alert long before the
    // 60 s window closes, carrying the gauges of the same flush.
    await send(r, 'envoy.cluster.fn-busy.upstream_rq_active:2|g', l2.port);
    await send(r, 'envoy.cluster.fn-busy.upstream_rq_pending_active:3|g', l2.port);
    await waitFor(async () => (got.length >= 1 ? true : undefined));
    assert.equal(got[0]?.fn, 'busy');
    assert.equal(got[0]?.reason, 'pending');
    assert.deepEqual([got[0]?.metrics.rqActive, got[0]?.metrics.rqPendingActive, got[0]?.metrics.routers, got[0]?.metrics.updatedAt], [2, 3, 1, now]);
    // Half an interval later: suppressed. A whole interval later: the next alert, with the new figure.
    now += 500;
    await send(r, 'envoy.cluster.fn-busy.upstream_rq_pending_active:4|g', l2.port);
    now += 600;
    await send(r, 'envoy.cluster.fn-busy.upstream_rq_pending_overflow:1|c\nenvoy.cluster.fn-busy.upstream_rq_pending_active:5|g', l2.port);
    await waitFor(async () => (got.length >= 2 ? true : undefined));
    assert.equal(got.length, 2, 'the alert inside the interval was not sent (messages arrive in order)');
    assert.equal(got[1]?.reason, 'overflow');
    assert.equal(got[1]?.metrics.rqPendingActive, 5);
    assert.equal(l2.counters().alerts, 2);
  } finally {
    r.close();
    sub.disconnect();
    await l2.close();
  }
});
