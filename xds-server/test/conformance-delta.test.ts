/**
 * Delta and SotW ADS clients (both Envoy-like: wildcard LDS/CDS, EDS per cluster, RDS for
 * the listener's route config) must hold the very same resources, byte for byte, after
 * every rollout step: add, update (cluster and endpoints), DRAINING, remove.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouterStatus } from '@faas/contracts';
import { DeltaAdsClient, SotwAdsClient } from './helpers/ads-client';
import { spec, startTestServer, eventually, type TestServer } from './helpers/harness';
import type { RouteConfiguration__Output } from '../src/generated/envoy/config/route/v3/RouteConfiguration';

const uid = `${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
const SOTW_ID = `sotw-${uid}`;
const DELTA_ID = `delta-${uid}`;

const ep = (id: string, port: number, health: 'HEALTHY' | 'DRAINING' = 'HEALTHY') => ({ id, address: '127.0.0.1', port, health });

describe('delta and SotW clients see the same state', () => {
  let srv: TestServer;
  let sotw: SotwAdsClient;
  let delta: DeltaAdsClient;

  before(async () => {
    srv = await startTestServer();
    sotw = new SotwAdsClient(srv.handle.grpcPort, { nodeId: SOTW_ID }).start();
    delta = new DeltaAdsClient(srv.handle.grpcPort, { nodeId: DELTA_ID }).start();
    await eventually(async () => {
      const r = await srv.control.routers();
      const ids = (r.body as { routers: RouterStatus[] }).routers.map((x) => x.nodeId);
      return ids.includes(SOTW_ID) && ids.includes(DELTA_ID);
    }, 5000, 'both routers connected');
  });

  after(async () => {
    sotw?.close();
    delta?.close();
    await srv?.handle.close();
  });

  /** After a rollout both hold the same bytes; `fns` are the functions routed. */
  async function assertSame(fns: string[]): Promise<void> {
    const routed = (c: SotwAdsClient | DeltaAdsClient): string[] => {
      const rc = c.decode<RouteConfiguration__Output>('route', 'fn_routes');
      const clusters = new Set<string>();
      for (const vh of rc?.virtual_hosts ?? []) for (const r of vh.routes) if (r.route?.cluster) clusters.add(r.route.cluster);
      return [...clusters].sort();
    };
    const want = fns.map((f) => `fn-${f}`).sort();
    const done = (c: SotwAdsClient | DeltaAdsClient): boolean =>
      JSON.stringify(routed(c)) === JSON.stringify(want) && JSON.stringify(Object.keys(c.hashes().endpoint)) === JSON.stringify(want);
    await Promise.all([sotw.until(done, 'sotw routes', 5000), delta.until(done, 'delta routes', 5000)]);
    assert.deepEqual(delta.hashes(), sotw.hashes());
    assert.deepEqual(Object.keys(sotw.hashes().cluster), want);
    assert.deepEqual(Object.keys(sotw.hashes().listener), ['http_ingress']);
  }

  test('both protocols are tracked per router', async () => {
    const r = await srv.control.routers();
    const routers = (r.body as { routers: RouterStatus[] }).routers;
    assert.equal(routers.find((x) => x.nodeId === SOTW_ID)?.protocol, 'sotw');
    assert.equal(routers.find((x) => x.nodeId === DELTA_ID)?.protocol, 'delta');
  });

  test('add', async () => {
    const res = await srv.control.putOk(spec('alpha', [ep('a1', 9001)], { concurrency: 4 }));
    assert.deepEqual([...res.routers].sort(), [DELTA_ID, SOTW_ID].sort());
    await srv.control.putOk(spec('beta', [ep('b1', 9101), ep('b2', 9102)], { concurrency: 4 }));
    await assertSame(['alpha', 'beta']);
  });

  test('concurrent updates: endpoints, cluster settings, DRAINING', async () => {
    const [a, b] = await Promise.all([
      srv.control.putOk(spec('alpha', [ep('a1', 9001), ep('a2', 9002)], { concurrency: 8 })),
      srv.control.putOk(spec('beta', [ep('b1', 9101, 'DRAINING'), ep('b2', 9102)], { concurrency: 4, timeoutMs: 2000 })),
    ]);
    assert.equal(a.fn, 'alpha');
    assert.equal(b.fn, 'beta');
    await assertSame(['alpha', 'beta']);
  });

  test('remove', async () => {
    await srv.control.delOk('alpha');
    await assertSame(['beta']);
    // The delta client was told explicitly: removed_resources carried the cluster.
    assert.ok(delta.responses.some((e) => e.type === 'cluster' && e.removed.includes('fn-alpha')), 'delta removal of fn-alpha');
  });
});
