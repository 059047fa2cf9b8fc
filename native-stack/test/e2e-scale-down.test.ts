/**
 * Scale to zero without losing a request: a request that arrives while the last instance is
 * being removed (state 'stopping', before the router is told anything) cancels the removal and
 * is served by the same container. Real processes and dockerd, as in the cold path test.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FunctionStateRecord, redisKeys } from '@faas/contracts';
import { Redis } from 'ioredis';
import { type Stack, startStack } from '../src/launcher';
import { containers, root, writeDefinitions } from './helpers';

describe('scale to zero: a request during the removal grace period cancels it', { timeout: 180_000 }, () => {
  let stack: Stack;
  let dir: string;
  let redis: Redis;
  const id = `down-${randomBytes(3).toString('hex')}`;
  const logs: string[] = [];
  let base: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-down-'));
    stack = await startStack({
      root, stack: id, wakeTimeoutMs: 20_000,
      definitionsFile: writeDefinitions(dir, { hello: { version: '1', idle_timeout: '1s', warm: 'none' } }),
      sink: (c, l) => logs.push(`${c} ${l}`),
      // A long grace period makes the 'stopping' window easy to hit from a test.
      orchestratorEnv: { FAAS_STATS_INTERVAL_MS: '200', FAAS_GATEWAY_GRACE_MS: '3000' },
    });
    redis = new Redis(stack.redisUrl);
    base = `http://127.0.0.1:${stack.ports.gateway}`;
  });

  after(async () => {
    redis?.disconnect();
    await stack?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal((await containers(id)).length, 0, 'stack stop leaves no function container');
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
    const cold = await fetch(`${base}/hello`);
    assert.equal(cold.status, 200, await cold.text());
    const [c] = await containers(id, 'hello');
    assert.ok(c);

    await waitForState('stopping', 20_000);
    const res = await fetch(`${base}/hello?name=late`);
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
