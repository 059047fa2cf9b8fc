/** Desired state in Redis survives a Redis restart that lost it: the whole state is rewritten on reconnect. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { redisKeys } from '@faas/contracts';
import { startRedis } from '@faas/stack';
import { spec, startTestServer } from './test-server';

test('after a Redis restart the whole desired state is written again', async (t) => {
  let redis = await startRedis();
  const port = redis.port;
  t.after(() => redis.stop());
  const stack = `xdsp${process.pid}`;
  const srv = await startTestServer({ redisUrl: redis.url, stack });
  t.after(() => srv.close());
  assert.equal((await srv.put(spec('one'), 0)).status, 200);
  assert.equal((await srv.put(spec('two', [['127.0.0.1', 9002]]), 0)).status, 200);
  const from = srv.events.length;

  // Restart Redis on the same port, empty (no persistence), as a crashed Redis would come back.
  await redis.stop();
  redis = await startRedis({ port });
  const admin = new Redis(redis.url);
  t.after(() => admin.quit());
  const key = redisKeys(stack).xdsDesired;
  // The rewrite happens when ioredis reconnects; wait for it (bounded), then a later change.
  const deadline = Date.now() + 10_000;
  while ((await admin.hlen(key)) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(Object.keys(await admin.hgetall(key)).sort(), ['one', 'two']);
  assert.equal((await srv.put(spec('three'), 0)).status, 200);
  await srv.waitFor((e) => e.kind === 'snapshot', 'snapshot with three', from);
  const deadline2 = Date.now() + 5_000;
  while ((await admin.hlen(key)) < 3 && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(Object.keys(await admin.hgetall(key)).sort(), ['one', 'three', 'two']);
});
