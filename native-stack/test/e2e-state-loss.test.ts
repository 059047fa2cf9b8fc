/**
 * Shared state lost under a running platform: Redis flushed (as after a restart without
 * persistence) must not leave the gateway answering 503 forever; the orchestrator re-publishes
 * its states and the next cold request is served. Real processes and dockerd.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorizationHeader, redisKeys } from '@faas/contracts';
import { Redis } from 'ioredis';
import { writeDefinitions } from './helpers';
import { useTestStack } from './test-stack';

describe('shared state lost: Redis flushed under a running stack', { timeout: 180_000 }, () => {
  const suite = useTestStack('loss', {
    wakeTimeoutMs: 20_000, orchestratorEnv: { FAAS_RECONCILE_INTERVAL_MS: '300' },
    definitions: (dir) => writeDefinitions(dir, { hello: { version: '1', idle_timeout: '120s' } }),
  });
  const { id } = suite;
  const logs = suite.logs.lines;

  it('re-publishes function states and keeps serving cold requests', async () => {
    const redis = new Redis(suite.stack.redisUrl);
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
        res = await fetch(`${suite.base}/hello`);
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
    const redis = new Redis(suite.stack.redisUrl);
    const xdsUrl = `http://127.0.0.1:${suite.stack.ports.xdsHttp}/v1/functions`;
    try {
      assert.ok(!logs.some((l) => l.includes('"event":"router_state_lost_registering"')), 'functions the xds-server has are never registered again');
      // xds-server keeps its desired state in Redis: drop it, then crash the server.
      await redis.del(redisKeys(id).xdsDesired);
      await suite.stack.restart('xds-server', 'crash');
      const deadline = Date.now() + 15_000;
      for (;;) {
        const names = ((await (await fetch(xdsUrl, { headers: authorizationHeader(suite.stack.internalToken) })).json()) as { functions: { name: string }[] }).functions.map((f) => f.name);
        if (names.includes('hello')) break;
        assert.ok(Date.now() < deadline, 'hello not re-registered within 15 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(logs.some((l) => l.includes('"event":"router_state_lost_registering"')));
      // The router reconnects to the new server and routes the function again (the instance
      // from the previous test is still warm: idle_timeout 120 s).
      let res: Response | undefined;
      while (Date.now() < deadline + 10_000) {
        res = await fetch(`${suite.base}/hello?name=again`);
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
