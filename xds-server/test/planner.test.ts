/**
 * The planner's rules as table tests: no gRPC, no timers. Each case drives a simulated
 * router (helpers/planner-driver.ts) through the pure planner, in both protocols.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XDS_NAMES } from '@faas/contracts';
import { FakeRouter, PlannerWorld, type Sent } from './helpers/planner-driver';
import { spec } from './test-server';
import type { Protocol } from '../src/stream-state';

const PROTOCOLS: Protocol[] = ['sotw', 'delta'];
const types = (s: Sent[]): string[] => s.map((x) => x.type);

/** A router connected to `world` with everything ACKed. */
function settled(world: PlannerWorld, protocol: Protocol, nodeId = 'n1'): FakeRouter {
  const r = new FakeRouter(world, protocol, nodeId);
  r.connect();
  r.settle();
  return r;
}

for (const protocol of PROTOCOLS) {
  test(`${protocol}: add sends cluster then endpoints, and the route only after both are ACKed`, () => {
    const w = new PlannerWorld();
    const r = settled(w, protocol);
    w.set([spec('alpha')]);
    assert.deepEqual(types(r.replan()), ['cluster', 'endpoint'], 'in that order, in one step');
    assert.deepEqual(r.reply(), [], 'cluster ACKed: the route still waits for the endpoints');
    assert.equal(r.sync('alpha').state, 'pending');
    const afterEds = r.reply();
    assert.deepEqual(types(afterEds), ['route']);
    assert.deepEqual(afterEds[0]!.routeFns, ['alpha']);
    r.settle();
    assert.deepEqual(r.sync('alpha'), { state: 'synced' });
    assert.deepEqual(r.replan(), [], 'nothing new: nothing sent');
  });

  test(`${protocol}: remove is route first, cluster only after the route is ACKed`, () => {
    const w = new PlannerWorld([spec('alpha'), spec('beta')]);
    const r = settled(w, protocol);
    w.set([spec('beta')]);
    const first = r.replan();
    assert.deepEqual(types(first), ['route']);
    assert.deepEqual(first[0]!.routeFns, ['beta']);
    assert.ok(r.holds.cluster.has('fn-alpha'), 'cluster kept while a route may point at it');
    const after = r.reply();
    assert.deepEqual(types(after).slice(0, 1), ['cluster']);
    r.settle();
    assert.ok(!r.holds.cluster.has('fn-alpha'));
    assert.ok(!r.holds.endpoint.has('fn-alpha'));
  });

  test(`${protocol}: a cluster change re-sends its endpoints even when they are unchanged`, () => {
    const w = new PlannerWorld([spec('alpha')]);
    const r = settled(w, protocol);
    w.set([spec('alpha', undefined, { concurrency: 7 })]);
    const sent = r.replan();
    assert.deepEqual(types(sent), ['cluster', 'endpoint']);
    assert.deepEqual(sent[1]!.names, ['fn-alpha']);
    r.settle();
    assert.deepEqual(r.sync('alpha'), { state: 'synced' });
  });

  test(`${protocol}: a NACKed CLA is not re-sent; the fix is`, () => {
    const w = new PlannerWorld([spec('alpha')]);
    const r = settled(w, protocol);
    const held = r.holds.endpoint.get('fn-alpha');
    w.set([spec('alpha', [['127.0.0.2', 9002]])]);
    assert.deepEqual(types(r.replan()), ['endpoint']);
    assert.deepEqual(r.reply('fn-alpha: bad endpoint'), [], 'nothing re-sent after the NACK');
    assert.deepEqual(r.sync('alpha'), { state: 'nacked', type: 'endpoint', message: 'fn-alpha: bad endpoint' });
    assert.deepEqual(r.replan(), [], 'the rejected content stays held back');
    assert.equal(r.holds.endpoint.get('fn-alpha'), held, 'the router still runs the ACKed CLA');
    w.set([spec('alpha', [['127.0.0.3', 9003]])]);
    assert.deepEqual(types(r.replan()), ['endpoint']);
    r.settle();
    assert.deepEqual(r.sync('alpha'), { state: 'synced' });
  });

  test(`${protocol}: a NACK of alpha's CLA does not block beta, and alpha's rejected CLA does not ride along`, () => {
    const w = new PlannerWorld([spec('alpha'), spec('beta')]);
    const r = settled(w, protocol);
    w.set([spec('alpha', [['127.0.0.2', 9002]]), spec('beta')]);
    r.replan();
    r.reply('fn-alpha: rejected');
    w.set([spec('alpha', [['127.0.0.2', 9002]]), spec('beta', [['127.0.0.4', 9004]])]);
    const sent = r.replan();
    assert.deepEqual(types(sent), ['endpoint']);
    r.settle();
    assert.deepEqual(r.sync('beta'), { state: 'synced' });
    assert.equal(r.sync('alpha').state, 'nacked');
    const rejected = w.snap.functions.get('alpha')!.cla.hash;
    assert.notEqual(r.holds.endpoint.get('fn-alpha'), rejected, 'alpha keeps its last ACKed CLA');
  });

  test(`${protocol}: a NACK of the shared route config holds it back until the routes change`, () => {
    const w = new PlannerWorld([spec('alpha')]);
    const r = settled(w, protocol);
    w.set([spec('alpha', undefined, { timeoutMs: 1234 })]);
    assert.deepEqual(types(r.replan()), ['route']);
    assert.deepEqual(r.reply('route config rejected'), []);
    assert.deepEqual(r.sync('alpha'), { state: 'nacked', type: 'route', message: 'route config rejected' });
    assert.deepEqual(r.replan(), []);
    w.set([spec('alpha', undefined, { timeoutMs: 1234 }), spec('beta')]);
    r.replan();
    r.settle();
    assert.deepEqual(r.sync('alpha'), { state: 'synced' });
    assert.deepEqual(r.sync('beta'), { state: 'synced' });
  });

  test(`${protocol}: a rejection outlives the stream: a reconnect is not sent the rejected CLA`, () => {
    const w = new PlannerWorld([spec('alpha')]);
    const r = settled(w, protocol);
    w.set([spec('alpha', [['127.0.0.2', 9002]])]);
    r.replan();
    r.reply('fn-alpha: no');
    const again = settled(w, protocol);
    assert.notEqual(again.holds.endpoint.get('fn-alpha'), w.snap.functions.get('alpha')!.cla.hash);
  });

  test(`${protocol}: a subscribed name the server does not have is answered at once`, () => {
    const w = new PlannerWorld([spec('alpha')]);
    const r = new FakeRouter(w, protocol);
    const sent = r.subscribe('endpoint', ['fn-nope']);
    assert.equal(sent.length, 1, 'answered, so the client need not wait for its does-not-exist timer');
    assert.deepEqual(sent[0]!.names, []);
    if (protocol === 'delta') assert.deepEqual(sent[0]!.removed, ['fn-nope']);
  });

  test(`${protocol}: named subscriptions get only their names; wildcard gets all`, () => {
    const w = new PlannerWorld([spec('alpha'), spec('beta')]);
    const named = new FakeRouter(w, protocol);
    assert.deepEqual(named.subscribe('cluster', ['fn-beta'])[0]!.names, ['fn-beta']);
    const wild = new FakeRouter(w, protocol);
    assert.deepEqual(wild.subscribe('cluster')[0]!.names, ['fn-alpha', 'fn-beta']);
  });
}

test('sotw: a stale nonce changes nothing and sends nothing', () => {
  const w = new PlannerWorld([spec('alpha')]);
  const r = new FakeRouter(w, 'sotw');
  r.subscribe('cluster');
  w.set([spec('alpha'), spec('beta')]);
  r.replan(); // nonce 2 is now the latest
  const before = r.effects.length;
  assert.deepEqual(r.subscribe('cluster', [], { nonce: '1' }), []);
  assert.deepEqual(r.effects.slice(before).map((e) => e.kind), ['stale']);
});

test('sotw: a reconnect carrying an old stream\'s nonce and version is answered in full', () => {
  const w = new PlannerWorld([spec('alpha')]);
  const r = new FakeRouter(w, 'sotw');
  const sent = r.subscribe('cluster', [], { nonce: '17' });
  assert.deepEqual(sent.map((s) => s.names), [['fn-alpha']]);
});

test('delta: a reconnect with initial versions re-sends what the client claims to hold', () => {
  const w = new PlannerWorld([spec('alpha')]);
  const r = new FakeRouter(w, 'delta');
  const sent = r.subscribe('cluster', ['*'], { initial: { 'fn-alpha': 'old', 'fn-gone': 'old' } });
  assert.deepEqual(sent[0]!.names, ['fn-alpha']);
  assert.deepEqual(sent[0]!.removed, ['fn-gone']);
});

test('sotw and delta routers end in the same state through the same steps', () => {
  const steps = [[spec('a')], [spec('a'), spec('b')], [spec('b', [['127.0.0.9', 9009]])], [spec('b', undefined, { timeoutMs: 99 })], []];
  const runs = PROTOCOLS.map((p) => {
    const w = new PlannerWorld();
    const r = settled(w, p);
    const order: string[][] = [];
    const held: string[][] = [];
    for (const s of steps) {
      w.set(s);
      order.push(types([...r.replan(), ...r.settle()]));
      held.push((['cluster', 'endpoint', 'listener', 'route'] as const).map((t) => [...r.holds[t]].sort().join(',')));
    }
    return { order, held };
  });
  assert.deepEqual(runs[0]!.held, runs[1]!.held);
  assert.deepEqual(runs[0]!.order, runs[1]!.order);
});

test('route release is gated per function: a gRPC client that has not asked for CDS gets routes at once', () => {
  const w = new PlannerWorld([spec('alpha')]);
  const r = new FakeRouter(w, 'sotw', 'g1', true);
  r.subscribe('listener', [XDS_NAMES.grpcListener]);
  const sent = r.subscribe('route', [XDS_NAMES.routeConfig]);
  assert.deepEqual(sent[0]!.routeFns, ['alpha']);
});
