/** Delta ADS (DeltaAggregatedResources) against a small @grpc/grpc-js delta client. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeltaAdsClient, SotwAdsClient } from './helpers/ads-client';
import { spec, startTestServer } from './test-server';

test('delta and SotW routers converge on the same state, with make-before-break', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const d = new DeltaAdsClient(srv.grpcPort, { nodeId: 'delta-1' }).start();
  const s = new SotwAdsClient(srv.grpcPort, { nodeId: 'sotw-1' }).start();
  t.after(() => { d.close(); s.close(); });
  await d.until((x) => x.state.route.has('fn_routes'), 'delta initial route');
  await s.until((x) => x.acked.route !== '', 'sotw initial route');

  const before = srv.responsesFor('delta-1').length;
  const r1 = await srv.put(spec('alpha'));
  assert.equal(r1.status, 200, JSON.stringify(r1.body));
  assert.deepEqual(r1.body.routers, ['delta-1', 'sotw-1']);
  const evs = srv.responsesFor('delta-1').slice(before).map((e) => `${e.type}:${e.names.join(',')}`);
  assert.deepEqual(evs, ['cluster:fn-alpha', 'endpoint:fn-alpha', 'route:fn_routes']);
  assert.equal((await srv.put(spec('beta', [['127.0.0.1', 9002]]))).status, 200);

  const same = (): void => {
    for (const type of ['cluster', 'endpoint', 'listener', 'route'] as const) {
      const dv = [...d.state[type].entries()].map(([n, v]) => [n, JSON.stringify(v.body)]).sort();
      const sv = [...s.state[type].entries()].map(([n, v]) => [n, JSON.stringify(v.body)]).sort();
      assert.deepEqual(dv, sv, `${type} differs`);
    }
  };
  same();

  // Delta sends only what changed: a beta update does not resend alpha.
  const n = srv.responsesFor('delta-1').length;
  assert.equal((await srv.put(spec('beta', [['127.0.0.1', 9003]]))).status, 200);
  const upd = srv.responsesFor('delta-1').slice(n);
  assert.ok(upd.every((e) => !e.names.includes('fn-alpha')), JSON.stringify(upd));
  same();

  const m = srv.responsesFor('delta-1').length;
  assert.equal((await srv.del('alpha')).status, 200);
  const rm = srv.responsesFor('delta-1').slice(m);
  assert.equal(rm[0]!.type, 'route');
  const clusterRemoval = rm.find((e) => e.type === 'cluster');
  assert.deepEqual(clusterRemoval?.removed, ['fn-alpha']);
  assert.ok(rm.indexOf(clusterRemoval!) > 0);
  same();
  const routers = (await srv.api('GET', '/v1/routers')).body.routers as { nodeId: string; protocol: string }[];
  assert.equal(routers.find((r) => r.nodeId === 'delta-1')!.protocol, 'delta');
});

test('delta NACK fails the wait and the state stays at the last ACK', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const d = new DeltaAdsClient(srv.grpcPort, { nodeId: 'delta-2' }).start();
  t.after(() => d.close());
  await d.until((x) => x.state.route.has('fn_routes'), 'delta initial route');
  assert.equal((await srv.put(spec('alpha'))).status, 200);
  d.nackNext('cluster', 'bad cluster');
  const r = await srv.put(spec('alpha', undefined, { concurrency: 9 }), 2000);
  assert.equal(r.status, 502, JSON.stringify(r.body));
  assert.equal(r.body.router, 'delta-2');
  assert.equal(r.body.detail, 'bad cluster');
  const fixed = await srv.put(spec('alpha', undefined, { concurrency: 3 }), 2000);
  assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
});

test('a reconnecting router gets its full state; versions carry the server epoch', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  assert.equal((await srv.put(spec('alpha'), 0)).status, 200);
  const s1 = new SotwAdsClient(srv.grpcPort, { nodeId: 'again' }).start();
  await s1.until((x) => /fn-alpha/.test(JSON.stringify(x.state.route.get('fn_routes')?.body ?? '')), 'first full state');
  const v = s1.acked.cluster;
  s1.close();
  const s2 = new SotwAdsClient(srv.grpcPort, { nodeId: 'again' });
  t.after(() => s2.close());
  // A client that claims the old version still gets everything.
  // ...and a nonce from the old stream must not make its first request look stale.
  s2.send('cluster', [], v, 'nonce-from-old-stream');
  s2.send('listener', [], s1.acked.listener);
  await s2.until((x) => x.state.cluster.has('fn-alpha') && x.state.endpoint.has('fn-alpha') && /fn-alpha/.test(JSON.stringify(x.state.route.get('fn_routes')?.body ?? '')), 'state after reconnect');
  assert.match(JSON.stringify(s2.state.route.get('fn_routes')!.body), /fn-alpha/);
  const epoch = srv.controlPlane.epoch;
  assert.ok(s2.acked.cluster.startsWith(`${epoch}-`));
  const d = new DeltaAdsClient(srv.grpcPort, { nodeId: 'again-delta' });
  t.after(() => d.close());
  d.send({ type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', resource_names_subscribe: ['*'], initial_resource_versions: { 'fn-alpha': 'old' } });
  d.send({ type_url: 'type.googleapis.com/envoy.config.listener.v3.Listener', resource_names_subscribe: ['*'] });
  await d.until((x) => x.state.cluster.has('fn-alpha') && /fn-alpha/.test(JSON.stringify(x.state.route.get('fn_routes')?.body ?? '')), 'delta state after reconnect');
});

test('delta: a subscribed name the server does not have is answered as removed', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const d = new DeltaAdsClient(srv.grpcPort, { nodeId: 'delta-3' });
  t.after(() => d.close());
  d.send({ type_url: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', resource_names_subscribe: ['fn-missing'] });
  await d.until((x) => x.responses.length > 0, 'answer');
  assert.deepEqual(d.responses[0]!.removed, ['fn-missing']);
  assert.deepEqual(d.responses[0]!.resources, []);
});
