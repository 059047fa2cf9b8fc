/**
 * End to end through real processes: nginx+Lua gateway, redis-rest, Redis, orchestrator with
 * real dockerd, xds-server, statsd-listener, and the Envoy stand-in (the only non-production
 * piece: Envoy cannot be installed here).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { type ColdStartRecord, type FunctionMetrics, LABELS, coldStartsKey, redisKeys } from '@faas/contracts';
import { Redis } from 'ioredis';
import { containers, docker, root, writeDefinitions } from './helpers';
import { useTestStack } from './test-stack';

describe('cold path end to end', { timeout: 240_000 }, () => {
  const suite = useTestStack('e2e', {
    definitions: (dir) => writeDefinitions(dir, {
      hello: { version: '1', idle_timeout: '2s', timeout: '5s', memory_mb: 64, cpus: 0.5, warm: 'none' },
      echo: { version: '1', concurrency: 4, idle_timeout: '60s' },
      bigecho: { version: '1', code: path.join(root, 'functions/echo'), idle_timeout: '60s' },
    }),
    wakeTimeoutMs: 20_000,
    orchestratorEnv: { FAAS_STATS_INTERVAL_MS: '250' },
  });
  const { id } = suite;
  const logs = suite.logs.lines;

  it('serves a cold request with the function body, held while the container started', async () => {
    assert.equal((await containers(id, 'hello')).length, 0);
    const res = await fetch(`${suite.base}/hello`);
    const body = await res.text();
    assert.equal(res.status, 200, `${body}\n${logs.slice(-30).join('\n')}`);
    assert.equal(body, 'Hello, world!\n');
    assert.match(res.headers.get('x-faas-held-ms') ?? '', /^\d+$/);
    assert.ok(res.headers.get('x-request-id'));
    const [c] = await containers(id, 'hello');
    const info = await docker.getContainer(c!.Id).inspect();
    assert.equal(info.Config.Labels[LABELS.function], 'hello');
    assert.equal(info.Config.Labels[LABELS.version], '1');
    assert.match(info.Config.Labels[LABELS.instance] ?? '', /^[0-9a-f]{12}$/);
    assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024, 'memory limit from the definition');
    assert.equal(info.HostConfig.NanoCpus, 0.5e9, 'cpu limit from the definition');
  });

  it('serves the next request warm: no hold, no new container', async () => {
    const before = (await containers(id, 'hello')).map((c) => c.Id);
    const res = await fetch(`${suite.base}/hello/sub/path?name=Ada`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'Hello, Ada!\n');
    assert.equal(res.headers.get('x-faas-held-ms'), null);
    assert.deepEqual((await containers(id, 'hello')).map((c) => c.Id), before);
  });

  it('20 concurrent requests to a cold function all get 200 through exactly one cold start', async (t) => {
    assert.equal((await containers(id, 'echo')).length, 0);
    const redis = new Redis(suite.stack.redisUrl);
    // Disconnected whatever the outcome: an open client would keep the test process alive.
    t.after(() => redis.disconnect());
    const echoStarts = async () => (await redis.lrange(coldStartsKey(id), 0, -1)).filter((r) => (JSON.parse(r) as ColdStartRecord).fn === 'echo').length;
    const startsBefore = await echoStarts();
    const results = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const res = await fetch(`${suite.base}/echo`, { method: 'POST', body: `req-${i}`, headers: { 'content-type': 'text/plain' } });
      return { status: res.status, body: await res.text() };
    }));
    results.forEach((r, i) => {
      assert.equal(r.status, 200, r.body);
      assert.equal(r.body, `req-${i}`);
    });
    // The wakes share one cold start; once it is warm the burst queues in the router (20 on
    // concurrency 4), and the autoscaler may add instances for it (scale-ups, not cold starts),
    // never more than max_instances (5 by default).
    const n = (await containers(id, 'echo')).length;
    assert.ok(n >= 1 && n <= 5, `${n} echo containers`);
    assert.equal((await echoStarts()) - startsBefore, 1, 'one cold start for 20 concurrent wakes');
  });

  it('echo returns a 1 MiB body byte for byte', async () => {
    const payload = randomBytes(1024 * 1024);
    const res = await fetch(`${suite.base}/echo`, { method: 'POST', body: payload, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.status, 200);
    const back = Buffer.from(await res.arrayBuffer());
    assert.equal(back.length, payload.length);
    assert.ok(back.equals(payload), 'body differs');
  });

  it('a 1 MiB body sent to a cold function is held through the wake and echoed byte for byte', async () => {
    assert.equal((await containers(id, 'bigecho')).length, 0);
    const payload = randomBytes(1024 * 1024);
    const res = await fetch(`${suite.base}/bigecho`, { method: 'POST', body: payload, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('x-faas-held-ms') ?? '', /^\d+$/, 'held while cold');
    const back = Buffer.from(await res.arrayBuffer());
    assert.ok(back.equals(payload), 'body differs');
  });

  it('answers 404 JSON for an unknown function and 400 JSON for a bad name', async () => {
    const unknown = await fetch(`${suite.base}/nosuchfn`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.headers.get('content-type') ?? '', /json/);
    assert.equal(((await unknown.json()) as { error: string }).error, 'unknown_function');
    const bad = await fetch(`${suite.base}/Bad_Name`);
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type') ?? '', /json/);
    assert.equal(((await bad.json()) as { error: string }).error, 'invalid_name');
  });

  it('router statsd metrics reach Redis per function through the statsd-listener', async () => {
    const redis = new Redis(suite.stack.redisUrl);
    try {
      const key = redisKeys(id).metrics('echo');
      const deadline = Date.now() + 10_000;
      let m: Record<string, string> = {};
      while (Date.now() < deadline) {
        m = await redis.hgetall(key);
        if (Number(m.routers ?? 0) >= 1) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const fields: (keyof FunctionMetrics)[] = ['rqActive', 'rqPendingActive', 'rqPerSecond', 'routers'];
      for (const f of fields) assert.ok(f in m, `metrics hash has ${f}: ${JSON.stringify(m)}`);
      assert.ok(Number(m.routers) >= 1);
    } finally {
      redis.disconnect();
    }
  });

  it('removes the container after the idle timeout; the next request is cold again', async () => {
    // The earlier tests can outlast hello's 2 s idle timeout on a loaded machine: 0 is fine too.
    const first = (await containers(id, 'hello')).map((c) => c.Id);
    assert.ok(first.length <= 1, `at most one hello container, found ${first.length}`);
    const deadline = Date.now() + 30_000;
    while ((await containers(id, 'hello')).length > 0) {
      assert.ok(Date.now() < deadline, 'idle container not removed within 30s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const res = await fetch(`${suite.base}/hello`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'Hello, world!\n');
    assert.match(res.headers.get('x-faas-held-ms') ?? '', /^\d+$/, 'second cold request is held');
    const now = (await containers(id, 'hello')).map((c) => c.Id);
    assert.equal(now.length, 1);
    assert.notEqual(now[0], first[0]);
  });
});
