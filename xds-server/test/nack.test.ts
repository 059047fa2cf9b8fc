/** NACK handling: recorded with its message, rejected version never re-sent, last ACKed state stays. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routedSotw, spec, startTestServer } from './test-server';

test('a NACKed endpoint update fails the wait naming the router; the route is held back', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const c = await routedSotw(t, srv.grpcPort, 'nack-1');
  assert.equal((await srv.put(spec('alpha'))).status, 200);
  const ackedEds = c.acked.endpoint;

  c.nackNext('endpoint', 'invalid address 999.1.1.1');
  const r = await srv.put(spec('beta', [['127.0.0.1', 9005]]), 2000);
  assert.equal(r.status, 502, JSON.stringify(r.body));
  assert.equal(r.body.error, 'nacked');
  assert.equal(r.body.router, 'nack-1');
  assert.match(String(r.body.detail), /invalid address/);
  // The route to beta was never sent: alpha keeps serving from the last ACKed state.
  const routes = srv.responsesFor('nack-1').filter((e) => e.type === 'route');
  assert.ok(routes.every((e) => !(e.routeFns ?? []).includes('beta')));
  assert.equal(c.acked.endpoint, ackedEds);

  const status = (await srv.api('GET', '/v1/routers')).body.routers as { nodeId: string; types: { type: string; nacked: { message: string; version: string } | null; ackedVersion: string; sentVersion: string }[] }[];
  const eds = status.find((x) => x.nodeId === 'nack-1')!.types.find((x) => x.type === 'endpoint')!;
  assert.match(eds.nacked!.message, /invalid address/);
  assert.equal(eds.ackedVersion, ackedEds);
  assert.notEqual(eds.sentVersion, ackedEds);

  // The rejected state is not re-sent on later unrelated requests.
  const n = srv.responsesFor('nack-1').filter((e) => e.type === 'endpoint').length;
  const from = srv.events.length;
  const nonce = [...c.responses].reverse().find((x) => x.type === 'listener')!.nonce;
  c.send('listener', [], c.acked.listener, nonce);
  await srv.waitFor((e) => e.kind === 'ack' && e.nodeId === 'nack-1' && e.type === 'listener' && e.nonce === nonce, 'the listener re-ACK handled', from);
  assert.equal(srv.responsesFor('nack-1').filter((e) => e.type === 'endpoint').length, n);

  // A fixed update goes through.
  const ok = await srv.put(spec('beta', [['127.0.0.1', 9006]]), 2000);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.match(JSON.stringify(c.state.route.get('fn_routes')!.body), /fn-beta/);
});

test('builder hook injects an invalid resource; a NACK keeps the previous state', async (t) => {
  let inject = false;
  const srv = await startTestServer({
    builderHooks: {
      transformClusterLoadAssignment: (fn, cla) => (inject && fn === 'alpha' ? { ...cla, cluster_name: 'wrong-name' } : cla),
    },
  });
  t.after(() => srv.close());
  const c = await routedSotw(t, srv.grpcPort, 'nack-2');
  assert.equal((await srv.put(spec('alpha'))).status, 200);
  inject = true;
  c.nackNext('endpoint', 'ClusterLoadAssignment for unknown cluster wrong-name');
  const r = await srv.put(spec('alpha', [['127.0.0.1', 9010]]), 2000);
  assert.equal(r.status, 502);
  assert.equal(r.body.router, 'nack-2');
  assert.match(JSON.stringify(c.state.endpoint.get('fn-alpha')!.body), /9001/);
});

test('ack_timeout lists the routers that did not ACK; no_router when none is connected', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const none = await srv.put(spec('alpha'), 150);
  assert.equal(none.status, 503);
  assert.equal(none.body.error, 'no_router');
  const c = await routedSotw(t, srv.grpcPort, 'stuck-1');
  c.paused = true;
  const r = await srv.put(spec('beta', [['127.0.0.1', 9002]]), 200);
  assert.equal(r.status, 504, JSON.stringify(r.body));
  assert.equal(r.body.error, 'ack_timeout');
  assert.deepEqual(r.body.pending, ['stuck-1']);
});
