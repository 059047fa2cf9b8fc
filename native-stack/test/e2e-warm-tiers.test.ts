/**
 * The paused warm tier end to end (issue 11), real processes and dockerd: an idle instance is
 * drained, withdrawn and paused (not removed, not routable); a wake unpauses it and the gateway
 * names the tier; a burst unpauses then starts; the memory budget and the paused TTL remove; a
 * paused container removed behind our back is replaced by a cold start; `warm: created`
 * pre-creates a container that a wake starts; an orchestrator crash adopts paused containers (and removes outdated ones); stack stop
 * leaves nothing. Every wait is bounded and on an observed event, never on elapsed time.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ColdStartRecord, type FunctionRouteSpec, HEADERS, authorizationHeader, coldStartsKey } from '@faas/contracts';
import { Redis } from 'ioredis';
import { type Stack, startStack } from '../src/launcher';
import { containers, docker, root, writeDefinitions } from './helpers';

const logs: string[] = [];

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    assert.ok(Date.now() < deadline, `${what}: not within ${timeoutMs} ms\n${logs.filter((l) => l.startsWith('orchestrator')).slice(-40).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('paused warm tier end to end', { timeout: 300_000 }, () => {
  let stack: Stack;
  let stopped = false;
  let dir: string;
  let redis: Redis;
  let base: string;
  const id = `warm-${randomBytes(3).toString('hex')}`;
  // stable_window at its minimum: after a burst that panicked the autoscaler (a demand alert),
  // scale-down waits one stable window; the default 60 s would race the tests' 60 s bounds.
  const hello = { version: '1', idle_timeout: '1s', paused_ttl: '10m', memory_mb: 64, concurrency: 2, max_instances: 4, stable_window: '6s', panic_window: '1s' };
  const defs = (helloVersion: string) => writeDefinitions(dir, {
    // Its own name: the version change below removes the old image tag, which no other stack shares.
    thaw: { ...hello, code: path.join(root, 'functions/hello'), version: helloVersion },
    ttl: { version: '1', code: path.join(root, 'functions/hello'), idle_timeout: '1s', paused_ttl: '2s', memory_mb: 16 },
    made: { version: '1', code: path.join(root, 'functions/hello'), idle_timeout: '1s', warm: 'created' },
  });
  const logged = (event: string, extra = '') => logs.filter((l) => l.includes(`"event":"${event}"`) && l.includes(extra)).length;
  const pausedOf = async (fn: string) => (await containers(id, fn)).filter((c) => c.State === 'paused');
  const endpoints = async (fn: string) => {
    const res = await fetch(`http://127.0.0.1:${stack.ports.xdsHttp}/v1/functions`, { headers: authorizationHeader(stack.internalToken) });
    return ((await res.json()) as { functions: FunctionRouteSpec[] }).functions.find((f) => f.name === fn)?.endpoints ?? [];
  };
  /** Every container of fn has gone idle: exactly one is left, and it is paused. */
  const onePaused = (fn: string) => until(`${fn} paused`, 60_000, async () => {
    const all = await containers(id, fn);
    return all.length === 1 && all[0]!.State === 'paused' ? all[0]! : undefined;
  });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-warm-'));
    stack = await startStack({
      root, stack: id, wakeTimeoutMs: 30_000, definitionsFile: defs('1'),
      sink: (c, l) => logs.push(`${c} ${l}`),
      // Room for one 64 MB thaw plus the 16 MB ttl function: a second paused thaw evicts.
      orchestratorEnv: { FAAS_STATS_INTERVAL_MS: '200', FAAS_PAUSED_BUDGET_MB: '100' },
    });
    redis = new Redis(stack.redisUrl);
    base = `http://127.0.0.1:${stack.ports.gateway}`;
  });

  after(async () => {
    redis?.disconnect();
    if (!stopped) await stack?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('idle: the instance is drained, withdrawn and paused, not removed; its endpoint is not routable', async () => {
    const cold = await fetch(`${base}/thaw`);
    assert.equal(cold.status, 200, await cold.text());
    assert.equal(cold.headers.get(HEADERS.wakeTier), 'cold');
    const [first] = await containers(id, 'thaw');
    const paused = await onePaused('thaw');
    assert.equal(paused.Id, first!.Id, 'the same container, frozen');
    assert.deepEqual(await endpoints('thaw'), [], 'no endpoint for a paused instance');
    assert.ok(logged('instance_paused') >= 1);
  });

  it('a wake unpauses it: served by the same container, the header names the tier, phases recorded', async () => {
    const [paused] = await pausedOf('thaw');
    const res = await fetch(`${base}/thaw?name=thawed`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'Hello, thawed!\n');
    assert.equal(res.headers.get(HEADERS.wakeTier), 'paused');
    assert.match(res.headers.get(HEADERS.heldMs) ?? '', /^\d+$/);
    assert.ok((await containers(id, 'thaw')).some((c) => c.Id === paused!.Id && c.State === 'running'), 'the paused one serves');
    const rec = (await redis.lrange(coldStartsKey(id), 0, -1)).map((r) => JSON.parse(r) as ColdStartRecord).find((r) => r.fn === 'thaw');
    assert.equal(rec?.tier, 'paused');
    assert.ok(rec && rec.containerStartMs >= 0 && rec.readinessMs >= 0 && rec.routeAckMs >= 0);
  });

  it('a burst against a paused function unpauses it and starts more; the budget then keeps one paused', async () => {
    const paused = await onePaused('thaw');
    const results = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
      const r = await fetch(`${base}/thaw?name=b${i}`);
      return { status: r.status, body: await r.text() };
    }));
    results.forEach((r, i) => assert.deepEqual(r, { status: 200, body: `Hello, b${i}!\n` }));
    const during = await containers(id, 'thaw');
    assert.ok(during.some((c) => c.Id === paused.Id && c.State === 'running'), 'the paused one was unpaused');
    const kept = await onePaused('thaw');
    assert.ok(kept);
    if (during.length > 1) assert.ok(logged('paused_instance_removed', '"reason":"over_budget"') >= 1, 'over-budget paused instances removed');
  });

  it('the paused TTL removes the container', async () => {
    const res = await fetch(`${base}/ttl`);
    assert.equal(res.status, 200, await res.text());
    await until('ttl paused', 30_000, async () => (await pausedOf('ttl')).length === 1);
    await until('ttl removed', 30_000, async () => (await containers(id, 'ttl')).length === 0);
    assert.ok(logged('paused_instance_removed', '"reason":"ttl_expired"') >= 1);
  });

  it('warm: created: the idle instance is removed and a container pre-created; a wake starts it', async () => {
    const first = await fetch(`${base}/made`);
    assert.equal(first.status, 200, await first.text());
    const [running] = await containers(id, 'made');
    const made = await until('made pre-created', 30_000, async () => {
      const all = await containers(id, 'made');
      return all.length === 1 && all[0]!.State === 'created' ? all[0]! : undefined;
    });
    assert.notEqual(made.Id, running!.Id, 'a new container, never started');
    assert.deepEqual(await endpoints('made'), []);
    const res = await fetch(`${base}/made?name=made`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'Hello, made!\n');
    assert.equal(res.headers.get(HEADERS.wakeTier), 'created');
    assert.ok((await containers(id, 'made')).some((c) => c.Id === made.Id && c.State === 'running'));
  });

  it('a paused container removed behind the orchestrator\'s back is noticed; the next wake starts a new one', async () => {
    const paused = await onePaused('thaw');
    await docker.getContainer(paused.Id).remove({ force: true });
    await until('death noticed', 30_000, async () => logs.some((l) => l.includes('"event":"instance_died"') && l.includes(paused.Id)));
    const res = await fetch(`${base}/thaw?name=again`);
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get(HEADERS.wakeTier), 'cold');
  });

  it('an orchestrator crash keeps paused containers: adopted as paused, then woken', async () => {
    const paused = await onePaused('thaw');
    await stack.restart('orchestrator', 'crash');
    assert.ok(logs.some((l) => l.includes('"event":"instance_adopted"') && l.includes('"tier":"paused"')), 'adopted as paused');
    const res = await fetch(`${base}/thaw?name=adopted`);
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get(HEADERS.wakeTier), 'paused');
    // (A slow wake can add instances: each wake republished while it waits counts as one more request.)
    assert.ok((await containers(id, 'thaw')).some((c) => c.Id === paused.Id && c.State === 'running'), 'the adopted one serves');
  });

  it('after a version change, an outdated paused container is removed, never unpaused', async () => {
    const paused = await onePaused('thaw');
    defs('2');
    await stack.restart('orchestrator', 'crash');
    assert.ok(!(await containers(id, 'thaw')).some((c) => c.Id === paused.Id), 'outdated paused container removed at start');
    const res = await fetch(`${base}/thaw`);
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get(HEADERS.wakeTier), 'cold');
  });

  it('stack stop with a paused container leaves nothing', async () => {
    await onePaused('thaw');
    stopped = true;
    await stack.stop();
    assert.deepEqual(await containers(id), [], 'no function container left');
  });
});
