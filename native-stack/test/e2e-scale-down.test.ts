/**
 * Scale to zero without losing a request: a request that arrives while the last instance is
 * being removed (state 'stopping', before the router is told anything) cancels the removal and
 * is served by the same container. Real processes and dockerd, as in the cold path test.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type FunctionStateRecord, redisKeys } from '@faas/contracts';
import { Redis } from 'ioredis';
import { containers, writeDefinitions } from './helpers';
import { useTestStack } from './test-stack';

describe('scale to zero: a request during the removal grace period cancels it', { timeout: 180_000 }, () => {
  let redis: Redis;
  const suite = useTestStack('down', {
    wakeTimeoutMs: 20_000,
    definitions: (dir) => writeDefinitions(dir, { hello: { version: '1', idle_timeout: '1s', warm: 'none' } }),
    // A long grace period makes the 'stopping' window easy to hit from a test.
    orchestratorEnv: { FAAS_STATS_INTERVAL_MS: '200', FAAS_GATEWAY_GRACE_MS: '3000' },
    beforeStop: async () => redis?.disconnect(),
  });
  const { id } = suite;
  const logs = suite.logs.lines;

  before(() => {
    redis = new Redis(suite.stack.redisUrl);
  });

  async function waitForState(want: FunctionStateRecord['state'], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const raw = await redis.hget(redisKeys(id).functions, 'hello');
      if (raw && (JSON.parse(raw) as FunctionStateRecord).state === want) return;
      assert.ok(Date.now() < deadline, `state ${want} not reached within ${timeoutMs}ms (last ${raw})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('serves the request from the same container and keeps the function warm', async () => {
    const cold = await fetch(`${suite.base}/hello`);
    assert.equal(cold.status, 200, await cold.text());
    const [c] = await containers(id, 'hello');
    assert.ok(c);

    await waitForState('stopping', 20_000);
    const res = await fetch(`${suite.base}/hello?name=late`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'Hello, late!\n');
    assert.deepEqual((await containers(id, 'hello')).map((x) => x.Id), [c.Id], 'removal cancelled: same container');
    await waitForState('warm', 5_000);
    assert.ok(logs.some((l) => l.includes('"event":"scale_down_cancelled"')), 'cancellation logged');
  });

  it('without traffic, the instance is then removed after the drain and the state is cold', async () => {
    await waitForState('cold', 30_000);
    assert.equal((await containers(id, 'hello')).length, 0);
    const order = logs.filter((l) => /"event":"scale_down_(begin|done)"/.test(l)).map((l) => /scale_down_(begin|done)/.exec(l)![0]);
    assert.deepEqual(order.slice(-2), ['scale_down_begin', 'scale_down_done']);
  });
});
