/** Protocol rules: stale nonces, gRPC vs Envoy listener shape, new names answered, persistence. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '@faas/stack';
import { SotwAdsClient } from './helpers/ads-client';
import { spec, startTestServer } from './test-server';

test('gRPC user agents get the api_listener, others the socket listener', async (t) => {
  const srv = await startTestServer({ routerPort: 10555 });
  t.after(() => srv.close());
  const g = new SotwAdsClient(srv.grpcPort, { nodeId: 'g1', userAgent: 'gRPC Node' }, { autoFollow: false });
  const e = new SotwAdsClient(srv.grpcPort, { nodeId: 'e1', userAgent: 'envoy' }, { autoFollow: false });
  t.after(() => { g.close(); e.close(); });
  g.follow('listener', ['fn-gw']);
  e.send('listener', []);
  await g.until((x) => x.state.listener.has('fn-gw'), 'grpc listener');
  await e.until((x) => x.state.listener.has('http_ingress'), 'envoy listener');
  assert.equal(e.state.listener.size, 1, 'no api_listener over LDS to Envoy');
  assert.match(JSON.stringify(e.state.listener.get('http_ingress')!.body), /"port_value":10555/);
  // gRPC clients subscribe by name: a name not served yields an empty answer, not an error.
  assert.ok(!g.state.listener.has('http_ingress'));
  // With no function, gRPC clients get a never-matching placeholder route (C-core NACKs an
  // empty virtual host); Envoy gets an empty one.
  g.follow('route', ['fn_routes']);
  e.follow('route', ['fn_routes']);
  await g.until((x) => x.state.route.has('fn_routes'), 'grpc route');
  await e.until((x) => x.state.route.has('fn_routes'), 'envoy route');
  assert.match(JSON.stringify(g.state.route.get('fn_routes')!.body), /_faas\/no-function/);
  assert.doesNotMatch(JSON.stringify(e.state.route.get('fn_routes')!.body), /no-function/);
});

test('stale nonces are ignored; newly requested names are always answered', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  assert.equal((await srv.put(spec('alpha'), 0)).status, 200);
  assert.equal((await srv.put(spec('beta', [['127.0.0.1', 9002]]), 0)).status, 200);
  const c = new SotwAdsClient(srv.grpcPort, { nodeId: 'p1' }, { autoFollow: false });
  t.after(() => c.close());
  c.follow('endpoint', ['fn-alpha']);
  await c.until((x) => x.state.endpoint.has('fn-alpha'), 'alpha cla');
  const n = srv.responsesFor('p1').length;
  const from = srv.events.length;
  c.send('endpoint', ['fn-alpha', 'fn-beta'], c.acked.endpoint, 'not-a-current-nonce');
  await srv.waitFor((e) => e.kind === 'stale' && e.nodeId === 'p1', 'the stale request handled', from);
  assert.equal(srv.responsesFor('p1').length, n, 'a stale request must not be answered');
  c.follow('endpoint', ['fn-alpha', 'fn-beta']);
  await c.until((x) => x.state.endpoint.has('fn-beta'), 'beta cla');
  // The same names again with the current nonce: nothing changed, nothing sent.
  const m = srv.responsesFor('p1').length;
  const from2 = srv.events.length;
  const nonce = c.responses[c.responses.length - 1]!.nonce;
  c.send('endpoint', ['fn-alpha', 'fn-beta'], c.acked.endpoint, nonce);
  await srv.waitFor((e) => e.kind === 'ack' && e.nodeId === 'p1' && e.nonce === nonce, 'the repeated request handled', from2);
  assert.equal(srv.responsesFor('p1').length, m);
});

test('desired state persists in Redis across a server restart', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const stack = `xdst${process.pid}`;
  const a = await startTestServer({ redisUrl: redis.url, stack });
  assert.equal((await a.put(spec('keep', [['127.0.0.1', 9009]]), 0)).status, 200);
  assert.equal((await a.put(spec('gone'), 0)).status, 200);
  assert.equal((await a.del('gone', 0)).status, 200);
  await a.close();
  const b = await startTestServer({ redisUrl: redis.url, stack });
  t.after(() => b.close());
  assert.deepEqual((await b.api('GET', '/v1/functions')).body, { functions: [spec('keep', [['127.0.0.1', 9009]])] });
  assert.notEqual(a.controlPlane.epoch, b.controlPlane.epoch);
  const c = new SotwAdsClient(b.grpcPort, { nodeId: 'after-restart' }).start();
  t.after(() => c.close());
  await c.until((x) => /fn-keep/.test(JSON.stringify(x.state.route.get('fn_routes')?.body ?? '')), 'route after restart');
});

test('a stream whose first request has no node id is ended with INVALID_ARGUMENT; the server lives on', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const bad = new SotwAdsClient(srv.grpcPort, { nodeId: '' }, { autoFollow: false });
  t.after(() => bad.close());
  bad.send('cluster', []);
  await bad.until((x) => x.closedWith !== null, 'stream end');
  assert.equal((bad.closedWith as { code?: number }).code, 3);
  const good = new SotwAdsClient(srv.grpcPort, { nodeId: 'fine' }).start();
  t.after(() => good.close());
  await good.until((x) => x.acked.listener !== '', 'healthy stream');
  const routers = (await srv.api('GET', '/v1/routers')).body.routers as { nodeId: string }[];
  assert.deepEqual(routers.map((r) => r.nodeId), ['fine']);
});

test('naming resources a wildcard already delivered and the client ACKed is not re-answered; a new name is', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  assert.equal((await srv.put(spec('alpha'), 0)).status, 200);
  const c = new SotwAdsClient(srv.grpcPort, { nodeId: 'wild-1' }, { autoFollow: false });
  t.after(() => c.close());
  c.send('endpoint', []);
  await c.until((x) => x.acked.endpoint !== '' && x.state.endpoint.has('fn-alpha'), 'wildcard EDS answered and ACKed');
  const eds = (): number => c.responses.filter((r) => r.type === 'endpoint').length;
  const before = srv.responsesFor('wild-1').filter((r) => r.type === 'endpoint').length;
  const from = srv.events.length;
  c.follow('endpoint', ['fn-alpha']);
  await srv.waitFor((e) => e.kind === 'ack' && e.nodeId === 'wild-1' && e.type === 'endpoint', 'the named request handled', from);
  assert.equal(srv.responsesFor('wild-1').filter((r) => r.type === 'endpoint').length, before, 'same resources, already held: nothing to send');
  c.follow('endpoint', ['fn-alpha', 'fn-missing']);
  await c.until(() => eds() > before, 'a newly requested name is answered');
  assert.deepEqual(c.responses.at(-1)!.resources.map((r) => r.name), ['fn-alpha']);
});
