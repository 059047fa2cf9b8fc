/** Make-before-break ordering as seen by an Envoy-like SotW router (server events). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routedSotw, spec, startTestServer } from './test-server';

function brief(evs: { type: string; names: string[]; routeFns?: string[] }[]): string[] {
  return evs.map((e) => (e.type === 'route' ? `route[${(e.routeFns ?? []).join(',')}]` : `${e.type}[${e.names.join(',')}]`));
}

test('add: cluster, then endpoints, route only after the endpoints are ACKed', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const c = await routedSotw(t, srv.grpcPort, 'ord-1');
  const before = srv.responsesFor('ord-1').length;
  const r = await srv.put(spec('alpha'));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.routers, ['ord-1']);
  const evs = srv.responsesFor('ord-1').slice(before);
  assert.deepEqual(brief(evs), ['cluster[fn-alpha]', 'endpoint[fn-alpha]', 'route[alpha]']);
  // The route response went out only after the endpoint ACK arrived.
  const iEdsAck = srv.events.findIndex((e) => e.kind === 'ack' && e.type === 'endpoint' && e.nodeId === 'ord-1' && e.version === evs[1]!.version);
  const iRoute = srv.events.indexOf(evs[2]!);
  assert.ok(iEdsAck >= 0 && iEdsAck < iRoute, 'route sent before the endpoint ACK');
  const route = c.state.route.get('fn_routes')!;
  assert.match(JSON.stringify(route.body), /fn-alpha/);
});

test('remove: route first, cluster only after the route is ACKed', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const c = await routedSotw(t, srv.grpcPort, 'ord-2');
  assert.equal((await srv.put(spec('alpha'))).status, 200);
  assert.equal((await srv.put(spec('beta', [['127.0.0.1', 9002]]))).status, 200);
  const before = srv.responsesFor('ord-2').length;
  const r = await srv.del('alpha');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const evs = srv.responsesFor('ord-2').slice(before);
  assert.deepEqual(brief(evs).slice(0, 2), ['route[beta]', 'cluster[fn-beta]']);
  const iRouteAck = srv.events.findIndex((e) => e.kind === 'ack' && e.type === 'route' && e.nodeId === 'ord-2' && e.version === evs[0]!.version);
  assert.ok(iRouteAck >= 0 && iRouteAck < srv.events.indexOf(evs[1]!), 'cluster removed before the route ACK');
  assert.deepEqual([...c.state.cluster.keys()], ['fn-beta']);
  assert.equal((await srv.api('GET', '/v1/functions')).body.functions instanceof Array, true);
});

test('a cluster change re-sends its endpoints even when they are unchanged', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const c = await routedSotw(t, srv.grpcPort, 'ord-3');
  assert.equal((await srv.put(spec('alpha'))).status, 200);
  const before = srv.responsesFor('ord-3').length;
  // Only concurrency changes: the cluster's circuit breakers change, the CLA does not.
  assert.equal((await srv.put(spec('alpha', undefined, { concurrency: 7 }))).status, 200);
  const evs = srv.responsesFor('ord-3').slice(before);
  assert.deepEqual(brief(evs), ['cluster[fn-alpha]', 'endpoint[fn-alpha]']);
  const cl = c.state.cluster.get('fn-alpha')!.body as { circuit_breakers: { thresholds: { max_requests: { value: number } }[] } };
  assert.equal(cl.circuit_breakers.thresholds[0]!.max_requests.value, 7);
});

test('draining endpoints: health is sent and capacity counts only HEALTHY hosts', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const c = await routedSotw(t, srv.grpcPort, 'ord-4');
  assert.equal((await srv.put(spec('alpha', [['127.0.0.1', 9001], ['127.0.0.1', 9002]]))).status, 200);
  assert.equal((await srv.put(spec('alpha', [['127.0.0.1', 9001], ['127.0.0.1', 9002, 'DRAINING']]))).status, 200);
  const cla = JSON.stringify(c.state.endpoint.get('fn-alpha')!.body);
  assert.match(cla, /"health_status":"DRAINING"/);
  const cl = c.state.cluster.get('fn-alpha')!.body as { circuit_breakers: { thresholds: { max_requests: { value: number } }[] }; common_lb_config: { healthy_panic_threshold: { value: number } } };
  assert.equal(cl.circuit_breakers.thresholds[0]!.max_requests.value, 2);
  assert.equal(cl.common_lb_config.healthy_panic_threshold.value, 0);
  assert.equal((await srv.put(spec('alpha', [['127.0.0.1', 9001]]))).status, 200);
  assert.doesNotMatch(JSON.stringify(c.state.endpoint.get('fn-alpha')!.body), /9002/);
});
