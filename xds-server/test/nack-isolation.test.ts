/**
 * A rejected resource must not block other functions: the node's rejected content is
 * replaced by what it last ACKed (or left out), on every later response, on forced EDS,
 * on newly requested names and after a reconnect of the same node id.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeltaAdsClient, SotwAdsClient, type NackPredicate } from './helpers/ads-client';
import { routedSotw, spec, startTestServer } from './test-server';

/** A router that cannot take port 9666 endpoints nor clusters capped at 13 requests. */
const picky: NackPredicate = (type, resources) => {
  for (const r of resources) {
    const s = JSON.stringify(r.body);
    if (type === 'endpoint' && s.includes('"port_value":9666')) return `${r.name}: endpoint port 9666 is refused`;
    if (type === 'cluster' && s.includes('"max_requests":{"value":13}')) return `${r.name}: max_requests 13 is refused`;
  }
  return undefined;
};

const port = (c: SotwAdsClient | DeltaAdsClient, cluster: string): string | undefined =>
  /"port_value":(\d+)/.exec(JSON.stringify(c.state.endpoint.get(cluster)?.body ?? {}))?.[1];

test('SotW: a NACKed CLA of alpha is never re-sent while beta keeps rolling out', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const nodeId = 'picky-sotw';
  let c = new SotwAdsClient(srv.grpcPort, { nodeId });
  c.nackIf = picky;
  c.start();
  t.after(() => c.close());
  await c.until((x) => x.acked.route !== '', 'initial route');
  assert.equal((await srv.put(spec('alpha', [['127.0.0.1', 9001]]))).status, 200);
  assert.equal((await srv.put(spec('beta', [['127.0.0.1', 9002]]))).status, 200);

  const bad = await srv.put(spec('alpha', [['127.0.0.1', 9666]]), 2000);
  assert.equal(bad.status, 502, JSON.stringify(bad.body));
  assert.equal(bad.body.error, 'nacked');
  assert.equal(bad.body.router, nodeId);
  assert.match(String(bad.body.detail), /fn-alpha/);
  assert.equal(c.nackCount, 1);

  // beta's endpoint change: the new response carries alpha's last ACKed CLA, not 9666.
  const b1 = await srv.put(spec('beta', [['127.0.0.1', 9003]]), 2000);
  assert.equal(b1.status, 200, JSON.stringify(b1.body));
  assert.equal(port(c, 'fn-beta'), '9003');
  assert.equal(port(c, 'fn-alpha'), '9001');

  // beta's cluster change forces EDS: still alpha's ACKed CLA.
  const b2 = await srv.put(spec('beta', [['127.0.0.1', 9003]], { concurrency: 5 }), 2000);
  assert.equal(b2.status, 200, JSON.stringify(b2.body));
  assert.equal(c.nackCount, 1, 'the rejected content was not sent again');

  // The same rejected content again: fails at once, nothing sent.
  const sentBefore = srv.responsesFor(nodeId).length;
  const again = await srv.put(spec('alpha', [['127.0.0.1', 9666]]), 2000);
  assert.equal(again.status, 502, JSON.stringify(again.body));
  assert.equal(again.body.error, 'nacked');
  assert.equal(srv.responsesFor(nodeId).length, sentBefore);

  // Reconnect of the same node: its full state leaves the rejected CLA out.
  c.close();
  const mark = srv.events.length;
  c = new SotwAdsClient(srv.grpcPort, { nodeId });
  c.nackIf = picky;
  c.start();
  await c.until((x) => x.state.endpoint.has('fn-beta') && x.acked.route !== '', 'state after reconnect');
  assert.equal(c.nackCount, 0, 'no NACK on the new stream');
  assert.equal(port(c, 'fn-alpha'), '9001');
  assert.ok(!srv.events.slice(mark).some((e) => e.kind === 'nack'));
  const b3 = await srv.put(spec('beta', [['127.0.0.1', 9004]]), 2000);
  assert.equal(b3.status, 200, JSON.stringify(b3.body));
  const routers = (await srv.api('GET', '/v1/routers')).body.routers as { types: { type: string; nacked: { message: string } | null }[] }[];
  assert.match(routers[0]!.types.find((x) => x.type === 'endpoint')!.nacked!.message, /fn-alpha/, 'the earlier NACK is still shown');

  // New content for alpha is sent again.
  const fixed = await srv.put(spec('alpha', [['127.0.0.1', 9005]]), 2000);
  assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
  assert.equal(port(c, 'fn-alpha'), '9005');
});

test('SotW: a rejected cluster keeps the last ACKed one; a never-ACKed one is left out', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const nodeId = 'picky-cds';
  const c = await routedSotw(t, srv.grpcPort, nodeId, picky);
  assert.equal((await srv.put(spec('alpha'))).status, 200);

  const bad = await srv.put(spec('alpha', undefined, { concurrency: 13 }), 2000);
  assert.equal(bad.status, 502, JSON.stringify(bad.body));
  const fresh = await srv.put(spec('gamma', undefined, { concurrency: 13 }), 2000);
  assert.equal(fresh.status, 502, JSON.stringify(fresh.body));
  assert.match(String(fresh.body.detail), /fn-gamma/);

  const ok = await srv.put(spec('beta', [['127.0.0.1', 9002]]), 2000);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.ok(c.state.cluster.has('fn-alpha'), 'alpha kept (LDS/CDS: absence would delete it)');
  assert.match(JSON.stringify(c.state.cluster.get('fn-alpha')!.body), /"max_requests":\{"value":2\}/);
  assert.ok(!c.state.cluster.has('fn-gamma'), 'gamma was never ACKed: left out');
  assert.ok(c.state.cluster.has('fn-beta'));
  assert.match(JSON.stringify(c.state.route.get('fn_routes')!.body), /fn-beta/);
  assert.doesNotMatch(JSON.stringify(c.state.route.get('fn_routes')!.body), /fn-gamma/);
});

test('delta: a NACKed CLA of alpha does not block beta, and is not re-sent', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const c = new DeltaAdsClient(srv.grpcPort, { nodeId: 'picky-delta' });
  c.nackIf = picky;
  c.start();
  t.after(() => c.close());
  await c.until((x) => x.state.route.size === 1, 'initial route');
  assert.equal((await srv.put(spec('alpha', [['127.0.0.1', 9001]]))).status, 200);
  assert.equal((await srv.put(spec('alpha', [['127.0.0.1', 9666]]), 2000)).status, 502);
  const ok = await srv.put(spec('beta', [['127.0.0.1', 9002]], { concurrency: 5 }), 2000);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(port(c, 'fn-alpha'), '9001');
  assert.equal(port(c, 'fn-beta'), '9002');
  assert.equal(c.nackCount, 1);
});
