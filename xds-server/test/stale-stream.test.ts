/**
 * A router that reconnects while its old stream is still open (half-dead: the server saw
 * no FIN) is judged by its newer stream, and a rollout's versions are what the routers
 * really ACKed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RolloutResult, RouterStatus } from '@faas/contracts';
import { SotwAdsClient } from './helpers/ads-client';
import { spec, startTestServer } from './test-server';

test('a reconnected router replaces its half-dead old stream for waits', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const old = new SotwAdsClient(srv.grpcPort, { nodeId: 'dup' }).start();
  t.after(() => old.close());
  await old.until((x) => x.acked.route !== '', 'old stream ready');
  // The old stream stops answering (its router is gone, the TCP connection lingers).
  old.paused = true;
  const fresh = new SotwAdsClient(srv.grpcPort, { nodeId: 'dup' }).start();
  t.after(() => fresh.close());
  await fresh.until((x) => x.acked.route !== '', 'new stream ready');

  const put = await srv.put(spec('alpha'), 2000);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.deepEqual(put.body.routers, ['dup']);
  assert.ok(fresh.state.cluster.has('fn-alpha'));
  assert.ok(!old.state.cluster.has('fn-alpha'), 'the old stream never ACKed the change');

  // The versions reported are the ones the new stream ACKed (GET /v1/routers shows them).
  const routers = (await srv.api('GET', '/v1/routers')).body.routers as RouterStatus[];
  assert.equal(routers.filter((r) => r.nodeId === 'dup').length, 2, 'both streams are still listed');
  const versions = (put.body as unknown as RolloutResult).versions;
  assert.equal(versions.cluster, fresh.acked.cluster);
  assert.equal(versions.endpoint, fresh.acked.endpoint);
  assert.equal(versions.route, fresh.acked.route);

  // If the newer stream goes away, the old one counts again (and, stuck, times out).
  const from = srv.events.length;
  fresh.close();
  await srv.waitFor((e) => e.kind === 'stream-close' && e.nodeId === 'dup', 'the server saw the newer stream close', from);
  const stuck = await srv.put(spec('beta'), 300);
  assert.equal(stuck.status, 504, JSON.stringify(stuck.body));
  assert.deepEqual(stuck.body.pending, ['dup']);
});

test('rollout versions: a single router gets its ACKed versions, several routers only common ones', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const a = new SotwAdsClient(srv.grpcPort, { nodeId: 'v-a' }).start();
  t.after(() => a.close());
  await a.until((x) => x.acked.route !== '', 'a ready');
  const one = await srv.put(spec('alpha'), 2000);
  assert.equal(one.status, 200, JSON.stringify(one.body));
  const status = ((await srv.api('GET', '/v1/routers')).body.routers as RouterStatus[])[0]!;
  const acked = Object.fromEntries(status.types.map((x) => [x.type, x.ackedVersion]));
  assert.deepEqual((one.body as unknown as RolloutResult).versions, acked);

  const b = new SotwAdsClient(srv.grpcPort, { nodeId: 'v-b' }).start();
  t.after(() => b.close());
  await b.until((x) => x.acked.route !== '', 'b ready');
  const two = await srv.put(spec('beta'), 2000);
  assert.equal(two.status, 200, JSON.stringify(two.body));
  const versions = (two.body as unknown as RolloutResult).versions;
  // Each stream numbers its own responses: a type appears only if both ACKed the same one.
  for (const [type, v] of Object.entries(versions)) {
    assert.equal(a.acked[type as keyof typeof a.acked], v);
    assert.equal(b.acked[type as keyof typeof b.acked], v);
  }
});
