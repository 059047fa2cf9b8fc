/**
 * The per-function reconciler with typed fakes (controller-fakes.ts): an injected clock and
 * sleep, a fake decide function, no HTTP server, no wall-clock waits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, type FunctionRouteSpec } from '@faas/contracts';
import { reconcileRoutes, routeDifference } from '../src/route-reconcile';
import { Harness, deferred } from './controller-fakes';

describe('FunctionController scale-up', () => {
  it('starts instances in parallel up to the desired count; each routable only after the routers ACK', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1']);
    h.desired = 3;
    h.readyGate = deferred();
    await ctl.tick(undefined);
    await new Promise((r) => setImmediate(r));
    assert.equal(h.maxStartsInFlight, 2, 'both new instances were probed at the same time');
    assert.deepEqual(ctl.set.census(), { starting: 2, ready: 1, draining: 0 });
    assert.ok(!h.puts.some((p) => p.endpoints.length > 1), 'a starting instance is never pushed');
    h.readyGate.resolve();
    await ctl.settled();
    assert.deepEqual(ctl.set.census(), { starting: 0, ready: 3, draining: 0 });
    const last = h.puts.at(-1)!;
    assert.deepEqual(last.endpoints.map((e) => e.health), ['HEALTHY', 'HEALTHY', 'HEALTHY']);
    assert.ok(h.counts.some((c) => c.starting === 2), 'instance counts published while starting');
    assert.deepEqual(h.counts.at(-1), { starting: 0, ready: 3, draining: 0 });
  });

  it('a burst of wakes against a cold function starts as many instances as it needs, bounded by max', async () => {
    const h = new Harness();
    const ctl = h.controller([]);
    h.readyGate = deferred();
    // The fake autoscaler asks one instance per two held requests (targetConcurrency 2).
    ctl.deps.decideScale = (s, signals, census, state) => ({ ...h.decide(s, signals, census, state), desired: Math.ceil(signals.waking / 2) });
    const wakes = Array.from({ length: 20 }, (_, i) => ctl.ensureWarm(`r${i}`));
    await new Promise((r) => setImmediate(r));
    assert.equal(ctl.set.census().starting, 4, 'max_instances (4), not one per request');
    h.readyGate.resolve();
    await Promise.all(wakes);
    await ctl.settled();
    assert.equal(ctl.readyCount(), 4);
    assert.equal(h.states.at(-1), 'warm');
    assert.deepEqual(h.states.slice(0, 2), ['starting', 'warm']);
  });

  it('a coalesced wake that says how many requests wait sizes the cold start', async () => {
    const h = new Harness();
    const ctl = h.controller([]);
    ctl.deps.decideScale = (s, signals, census, state) => ({ ...h.decide(s, signals, census, state), desired: Math.ceil(signals.waking / 2) });
    await ctl.ensureWarm('r1', 6);
    await ctl.settled();
    assert.equal(ctl.readyCount(), 3);
  });

  it('one held request whose wake is re-published every second starts one instance, not one per re-publication', async () => {
    const h = new Harness();
    const ctl = h.controller([]);
    h.readyGate = deferred();
    ctl.deps.decideScale = (s, signals, census, state) => ({ ...h.decide(s, signals, census, state), desired: Math.ceil(signals.waking / 2) });
    const wakes = Array.from({ length: 5 }, () => ctl.ensureWarm('r1', 1));
    await new Promise((r) => setImmediate(r));
    assert.equal(ctl.set.census().starting, 1);
    h.readyGate.resolve();
    await Promise.all(wakes);
    await ctl.settled();
    assert.equal(ctl.readyCount(), 1);
  });
});

describe('FunctionController scale-down', () => {
  it('drains the least busy instance: DRAINING ACKed, in flight reaches 0, endpoint withdrawn, then stop', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1', 'i2']);
    h.inflight.set('i1', [3]);
    h.inflight.set('i2', [1, 1, 1, 0]);
    h.desired = 1;
    await ctl.tick(undefined);
    await ctl.settled();
    const draining = h.index('put:i1=HEALTHY,i2=DRAINING');
    const acked = h.index('ack', draining);
    const zero = h.index('stats:i2=0', acked);
    const withdrawn = h.index('put:i1=HEALTHY', zero);
    const stopped = h.index('stop:c-i2', withdrawn);
    assert.ok(acked < zero && zero < withdrawn && withdrawn < stopped);
    assert.ok(!h.events.includes('stop:c-i1'));
    assert.deepEqual(ctl.set.census(), { starting: 0, ready: 1, draining: 0 });
    assert.ok(!h.states.includes('stopping'), 'gateways are not held while other instances serve');
  });

  it('stops at the drain deadline when in flight never reaches 0, and logs it', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1', 'i2']);
    h.inflight.set('i1', [5]);
    h.inflight.set('i2', [2]);
    h.desired = 1;
    const t0 = h.t;
    await ctl.tick(undefined);
    await ctl.settled();
    assert.ok(h.logged('drain_deadline'));
    assert.ok(h.t - t0 >= 300, 'waited the function timeout on the injected clock');
    assert.ok(h.events.includes('stop:c-i2'));
  });

  it('keeps draining a running instance whose stats stop answering, until the deadline', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1', 'i2']);
    h.inflight.set('i1', [5]);
    h.desired = 1;
    h.xds.put = async (spec: FunctionRouteSpec) => {
      if (spec.endpoints.some((e) => e.health === 'DRAINING')) h.unreadable.add('i2');
      h.events.push('put');
      return {};
    };
    await ctl.tick(undefined);
    await ctl.settled();
    assert.ok(h.logged('drain_deadline'), 'not stopped at the first failed read');
    assert.ok(h.events.includes('stop:c-i2'));
  });

  it('the last instance: stopping, gateway grace, drain, cold', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1']);
    h.desired = 0;
    await ctl.tick(undefined);
    await ctl.settled();
    assert.deepEqual(h.states, ['stopping', 'cold']);
    assert.ok(h.events.includes('stop:c-i1'));
    assert.equal(ctl.set.size, 0);
  });

  it('a wake during the last instance\'s grace period cancels its removal', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1']);
    h.desired = 0;
    let wake: Promise<void> | undefined;
    h.onSleep = (ms) => {
      if (ms === 10 && !wake) wake = ctl.ensureWarm('r-late');
    };
    await ctl.tick(undefined);
    await ctl.settled();
    await wake;
    assert.deepEqual(h.states, ['stopping', 'warm']);
    assert.ok(h.logged('scale_down_cancelled'));
    assert.ok(!h.events.some((e) => e.startsWith('stop:')));
    assert.ok(!h.events.some((e) => e.includes('DRAINING')), 'the router was never told anything');
    assert.equal(ctl.readyCount(), 1);
  });

  it('keeps the last instance when its stats time out and it still runs', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1']);
    h.unreadable.add('i1');
    h.desired = 0;
    await ctl.scaleDown('i1', 'idle');
    assert.equal(ctl.readyCount(), 1);
    assert.deepEqual(h.states, []);
  });

  it('a failed state write tells gateways the instance still serves', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1']);
    h.failState = 'stopping';
    await assert.rejects(ctl.scaleDown('i1', 'idle'), /redis down/);
    assert.equal(ctl.stoppingLast, false);
    assert.equal(ctl.readyCount(), 1);
    assert.deepEqual(h.states, ['warm']);
  });

  it('asks one removal per instance however often ticks ask', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1']);
    await Promise.all([ctl.scaleDown('i1', 'idle'), ctl.scaleDown('i1', 'idle'), ctl.scaleDown('i1', 'idle')]);
    assert.equal(h.events.filter((e) => e === 'stop:c-i1').length, 1);
    assert.deepEqual(h.states, ['stopping', 'cold']);
  });
});

describe('FunctionController instance death', () => {
  it('withdraws the endpoint at once and logs an OOM kill with the instance id', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1', 'i2']);
    h.oom.add('c-i1');
    h.running.delete('c-i1');
    await ctl.instanceDied('c-i1');
    assert.equal(h.events[0], 'put:i2=HEALTHY');
    assert.ok(h.logs.some((l) => l.includes('"event":"instance_oom"') && l.includes('"instance":"i1"') && l.includes('"fn":"hello"')));
    assert.ok(h.events.includes('stop:c-i1'), 'the dead container is removed');
    assert.equal(ctl.readyCount(), 1);
    // Recorded for the client that was waiting on it (the gateway answers out_of_memory).
    assert.deepEqual(h.failures, [{ fn: 'hello', instance: 'i1', cause: 'oom', memoryMb: 64, at: h.t, exitCode: 137 }]);
  });

  it('records any other end as exited, with its exit code', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1', 'i2']);
    await ctl.instanceDied('c-i2');
    assert.deepEqual(h.failures.map((f) => [f.instance, f.cause, f.exitCode]), [['i2', 'exited', 137]]);
  });

  it('takes the cause from the die event when it has one (no inspect)', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1', 'i2']);
    await ctl.instanceDied('c-i1', { exitCode: 137, oomKilled: true });
    assert.deepEqual(h.failures.map((f) => [f.instance, f.cause]), [['i1', 'oom']]);
    assert.ok(h.logged('instance_oom'));
  });

  it('the death of the only instance turns the function cold', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1']);
    await ctl.instanceDied('c-i1');
    assert.deepEqual(h.states, ['cold']);
    assert.equal(h.puts.at(-1)!.endpoints.length, 0);
  });
});

describe('FunctionController shutdown', () => {
  it('holds gateways, drains every instance in the router, then stops them all', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1', 'i2']);
    await ctl.close();
    const draining = h.index('put:i1=DRAINING,i2=DRAINING');
    const withdrawn = h.index('put:', draining + 1);
    assert.ok(h.index('stop:c-i1') > withdrawn && h.index('stop:c-i2') > withdrawn);
    assert.deepEqual(h.states, ['stopping', 'cold']);
    await assert.rejects(ctl.ensureWarm('late'), /shutting down/);
  });
});

describe('router state reconcile', () => {
  it('repairs a tampered endpoint and removes an undefined function', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1']);
    const want = ctl.desiredRoute();
    const held = new Map<string, FunctionRouteSpec>([
      ['hello', { ...want, endpoints: want.endpoints.map((e) => ({ ...e, port: 9 })) }],
      ['intruder', { name: 'intruder', timeoutMs: 1, concurrency: 1, endpoints: [] }],
    ]);
    h.xds.put = async (spec: FunctionRouteSpec) => {
      held.set(spec.name, spec);
      return {};
    };
    const store = { list: async () => [...held.values()], remove: async (fn: string) => held.delete(fn) };
    const repaired = await reconcileRoutes(new Map([['hello', ctl]]), store, createLogger('test', {}, () => undefined));
    assert.deepEqual(repaired, ['hello']);
    assert.equal(routeDifference(want, held.get('hello')), undefined);
    assert.ok(!held.has('intruder'));
    assert.deepEqual(await reconcileRoutes(new Map([['hello', ctl]]), store, createLogger('test', {}, () => undefined)), []);
  });

  it('names what differs', () => {
    const a: FunctionRouteSpec = { name: 'f', timeoutMs: 1, concurrency: 1, endpoints: [{ id: 'a', address: '127.0.0.1', port: 1, health: 'HEALTHY' }] };
    assert.equal(routeDifference(a, undefined), 'missing');
    assert.equal(routeDifference(a, { ...a, timeoutMs: 2 }), 'timeout differs');
    assert.equal(routeDifference(a, { ...a, endpoints: [{ ...a.endpoints[0]!, health: 'DRAINING' }] }), 'endpoints differ');
    assert.equal(routeDifference(a, { ...a }), undefined);
  });
});
