/**
 * Shared state lost under a running platform: Redis flushed (as after a restart without
 * persistence) must not leave the gateway answering 503 forever; the orchestrator re-publishes
 * its states and the next cold request is served. Real processes and dockerd.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { authorizationHeader, redisKeys } from '@faas/contracts';
import { Redis } from 'ioredis';
import { type Stack, startStack } from '../src/launcher';
import { containers, root, writeDefinitions } from './helpers';

describe('shared state lost: Redis flushed under a running stack', { timeout: 180_000 }, () => {
  let stack: Stack;
  let dir: string;
  const id = `loss-${randomBytes(3).toString('hex')}`;
  const logs: string[] = [];
  let base: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-loss-'));
    stack = await startStack({
      root, stack: id, wakeTimeoutMs: 20_000,
      definitionsFile: writeDefinitions(dir, { hello: { version: '1', idle_timeout: '120s' } }),
      sink: (c, l) => logs.push(`${c} ${l}`),
      orchestratorEnv: { FAAS_RECONCILE_INTERVAL_MS: '300' },
    });
    base = `http://127.0.0.1:${stack.ports.gateway}`;
  });

  after(async () => {
    await stack?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal((await containers(id)).length, 0, 'stack stop leaves no function container');
  });

  it('re-publishes function states and keeps serving cold requests', async () => {
    const redis = new Redis(stack.redisUrl);
    try {
      await redis.flushall();
      const deadline = Date.now() + 15_000;
      while (!(await redis.exists(redisKeys(id).functions))) {
        assert.ok(Date.now() < deadline, 'states not re-published within 15 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(logs.some((l) => l.includes('"event":"states_lost_republishing"')));
      // The heartbeat comes back within its own period; the gateway then serves a cold request.
      let res: Response | undefined;
      while (Date.now() < deadline + 10_000) {
        res = await fetch(`${base}/hello`);
        if (res.status === 200) break;
        await res.text();
        await new Promise((r) => setTimeout(r, 300));
      }
      assert.equal(res?.status, 200);
      assert.equal(await res!.text(), 'Hello, world!\n');
    } finally {
      redis.disconnect();
    }
  });

  it('re-registers every function with an xds-server that restarted without its desired state', async () => {
    const redis = new Redis(stack.redisUrl);
    const xdsUrl = `http://127.0.0.1:${stack.ports.xdsHttp}/v1/functions`;
    try {
      assert.ok(!logs.some((l) => l.includes('"event":"router_state_lost_registering"')), 'functions the xds-server has are never registered again');
      // xds-server keeps its desired state in Redis: drop it, then crash the server.
      await redis.del(redisKeys(id).xdsDesired);
      await stack.restart('xds-server', 'crash');
      const deadline = Date.now() + 15_000;
      for (;;) {
        const names = ((await (await fetch(xdsUrl, { headers: authorizationHeader(stack.internalToken) })).json()) as { functions: { name: string }[] }).functions.map((f) => f.name);
        if (names.includes('hello')) break;
        assert.ok(Date.now() < deadline, 'hello not re-registered within 15 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(logs.some((l) => l.includes('"event":"router_state_lost_registering"')));
      // The router reconnects to the new server and routes the function again (the instance
      // from the previous test is still warm: idle_timeout 120 s).
      let res: Response | undefined;
      while (Date.now() < deadline + 10_000) {
        res = await fetch(`${base}/hello?name=again`);
        if (res.status === 200) break;
        await res.text();
        await new Promise((r) => setTimeout(r, 300));
      }
      assert.equal(res?.status, 200);
      assert.equal(await res!.text(), 'Hello, again!\n');
    } finally {
      redis.disconnect();
    }
  });
});
