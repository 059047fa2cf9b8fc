/**
 * Instance failure lookups (contracts/instance-failures.ts): which record explains a request (pure,
 * as a table), the wait that resolves on the record, and GET /v1/functions/:name/failure on a real
 * Redis with the fake orchestrator recording.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { type InstanceFailureAnswer, type InstanceFailureRecord, authorizationHeader, createLogger } from '@faas/contracts';
import { type RedisProcess, startRedis } from '@faas/stack';
import { FakeOrchestrator } from '@faas/stack/dist/src/fake-orchestrator';
import { FailureHub, explainFailure, waitForFailure } from '../src/failure-hub';
import { type RedisRestServer, startRedisRest } from '../src/index';

const rec = (instance: string, cause: InstanceFailureRecord['cause'], at: number): InstanceFailureRecord => ({ fn: 'f', instance, cause, at });

test('explainFailure: records at or after the request start; an OOM kill wins; else the earliest', () => {
  const cases: [string, InstanceFailureRecord[], number, string | undefined][] = [
    ['no records', [], 100, undefined],
    ['only older records', [rec('a', 'oom', 99)], 100, undefined],
    ['a record at the start counts', [rec('a', 'oom', 100)], 100, 'a'],
    ['an exit after the start', [rec('a', 'exited', 150)], 100, 'a'],
    ['OOM wins over an earlier exit', [rec('a', 'exited', 120), rec('b', 'oom', 130)], 100, 'b'],
    ['OOM wins over a later exit', [rec('b', 'oom', 130), rec('a', 'exited', 140)], 100, 'b'],
    ['an old OOM does not explain a new exit', [rec('old', 'oom', 50), rec('a', 'exited', 140)], 100, 'a'],
    ['the earliest of several exits', [rec('late', 'exited', 300), rec('early', 'exited', 200)], 100, 'early'],
  ];
  for (const [name, records, since, want] of cases) assert.equal(explainFailure(records, since)?.instance, want, name);
});

test('waitForFailure resolves on the record the hub hears, bounded by waitMs otherwise', async () => {
  const hub = new FailureHub();
  let stored: InstanceFailureRecord[] = [];
  const store = { readFailures: async () => ({ records: stored, malformed: 0 }) };
  const waiting = waitForFailure({ hub, store, fn: 'f', since: 100, waitMs: 60_000, onClose: () => undefined });
  while (hub.waiting('f') === 0) await new Promise((r) => setImmediate(r));
  hub.onFailure(rec('old', 'oom', 10)); // before the request: does not release it
  assert.equal(hub.waiting('f'), 1);
  stored = [rec('a', 'oom', 200)];
  hub.onFailure(stored[0]!);
  assert.equal((await waiting).record?.instance, 'a');
  assert.equal(hub.waiting('f'), 0, 'the waiter is removed');
  // Nothing comes: answered at the bound with no record.
  stored = [];
  assert.equal((await waitForFailure({ hub, store, fn: 'f', since: 100, waitMs: 1, onClose: () => undefined })).record, undefined);
});

describe('GET /v1/functions/:name/failure', () => {
  let redis: RedisProcess;
  let rest: RedisRestServer;
  let orch: FakeOrchestrator;
  const internalToken = randomBytes(24).toString('hex');
  const get = async (path: string, auth = true) => {
    const res = await fetch(`http://127.0.0.1:${rest.port}${path}`, { headers: auth ? authorizationHeader(internalToken) : {} });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  before(async () => {
    redis = await startRedis();
    const stack = `rf-${randomUUID().slice(0, 8)}`;
    orch = new FakeOrchestrator(redis.url, stack, { f: { state: 'warm' } });
    await orch.start();
    rest = await startRedisRest({ redisUrl: redis.url, stack, logger: createLogger('redis-rest', {}, () => undefined), internalToken });
  });
  after(async () => {
    await rest?.close();
    await orch?.stop();
    await redis?.stop();
  });

  test('needs the shared secret; since is required; names and numbers are checked', async () => {
    assert.equal((await get('/v1/functions/f/failure?since=1', false)).status, 401);
    for (const p of ['/v1/functions/f/failure', '/v1/functions/f/failure?since=x', '/v1/functions/f/failure?since=1&wait_ms=99999', '/v1/functions/Bad_Name/failure?since=1']) {
      const r = await get(p);
      assert.equal(r.status, 400, p);
      assert.match(String(r.json.error), /^invalid_/, p);
    }
  });

  test('a recorded OOM kill at or after since is the answer; an older one is not', async () => {
    const at = Date.now();
    await orch.recordFailure({ fn: 'f', instance: 'i1', cause: 'oom', memoryMb: 64, at });
    const hit = await get(`/v1/functions/f/failure?since=${at}&wait_ms=0`);
    assert.equal(hit.status, 200);
    assert.deepEqual((hit.json as unknown as InstanceFailureAnswer).failure, { fn: 'f', instance: 'i1', cause: 'oom', memoryMb: 64, at });
    const miss = await get(`/v1/functions/f/failure?since=${at + 1}&wait_ms=0`);
    assert.equal((miss.json as unknown as InstanceFailureAnswer).failure, null);
  });

  test('a record published while the lookup waits answers it', async () => {
    const since = Date.now();
    const pending = get(`/v1/functions/f/failure?since=${since}&wait_ms=5000`);
    await orch.recordFailure({ fn: 'f', instance: 'i2', cause: 'exited', exitCode: 1, at: since + 5 });
    const r = await pending;
    assert.equal((r.json as unknown as InstanceFailureAnswer).failure?.instance, 'i2');
  });
});
