/**
 * The paused tier through the controller (typed fakes, injected clock): the last instance is
 * drained, withdrawn (ACKed) then paused; a wake unpauses it; TTL, budget and versions evict.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FunctionDefinition } from '@faas/contracts';
import { Harness, def, deferred } from './controller-fakes';

/** Let the controller's promise chains run until `cond` holds (bounded: fails instead of hanging). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i += 1) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), 'condition not reached');
}

const pausedDef: FunctionDefinition = { ...def, warm: 'paused', pausedTtlMs: 60_000 };

async function idleToPaused(h: Harness, ids = ['i1']) {
  const ctl = h.controller(ids, pausedDef);
  h.desired = 0;
  await ctl.tick(undefined);
  await ctl.settled();
  return ctl;
}

describe('paused warm tier', () => {
  it('idle: drained, withdrawn and ACKed, then paused; nothing removed, nothing routable', async () => {
    const h = new Harness();
    const ctl = await idleToPaused(h);
    assert.deepEqual(h.states, ['stopping', 'cold']);
    const withdraw = h.events.lastIndexOf('put:');
    assert.ok(withdraw >= 0 && h.events[withdraw + 1] === 'ack', h.events.join(' | '));
    assert.ok(h.index('pause:c-i1') > withdraw + 1, 'paused only after the routers ACKed the withdrawal');
    assert.ok(!h.events.some((e) => e.startsWith('stop:')));
    assert.equal(ctl.set.inState('paused').length, 1);
    assert.equal(ctl.set.size, 0, 'not capacity');
    assert.deepEqual(ctl.set.census(), { starting: 0, ready: 0, draining: 0 });
    assert.deepEqual(ctl.desiredRoute().endpoints, []);
  });

  it('a wake unpauses it (no new container), probes, registers and publishes warm with tier paused', async () => {
    const h = new Harness();
    const ctl = await idleToPaused(h);
    const from = h.events.length;
    await Promise.all([ctl.ensureWarm('r1'), ctl.ensureWarm('r2')]);
    const after = h.events.slice(from);
    assert.deepEqual(after.filter((e) => e.startsWith('unpause:') || e.startsWith('start:')), ['unpause:c-i1'], 'concurrent wakes unpause one');
    assert.equal(ctl.readyCount(), 1);
    assert.equal(h.states.at(-1), 'warm');
    assert.equal(h.tiers.at(-1), 'paused');
    assert.ok(h.logs.some((l) => l.includes('"event":"cold_start"') && l.includes('"tier":"paused"')));
  });

  it('the thawing endpoint is pushed beside the unpause; warm only after the thaw, readiness and the ACK', async () => {
    const h = new Harness();
    const ctl = await idleToPaused(h);
    h.unpauseGate = deferred();
    const from = h.events.length;
    const wake = ctl.ensureWarm('r1');
    await until(() => h.events.slice(from).includes('ack'));
    const during = h.events.slice(from);
    assert.ok(during.includes('unpause:c-i1') && !during.includes('unpaused:c-i1'), during.join(' | '));
    assert.ok(during.includes('put:i1=HEALTHY'), 'routers have the endpoint while it thaws');
    assert.notEqual(h.states.at(-1), 'warm', 'held requests wait for the thaw');
    h.unpauseGate.resolve();
    await wake;
    assert.equal(h.states.at(-1), 'warm');
    assert.equal(ctl.readyCount(), 1);
    assert.deepEqual(ctl.desiredRoute().endpoints.map((e) => `${e.id}=${e.health}`), ['i1=HEALTHY']);
    assert.ok(h.logs.some((l) => l.includes('"event":"cold_start"') && l.includes('"routedEarly":true')));
  });

  it('an unpause that fails after the early push withdraws the endpoint before the cold start replaces it', async () => {
    const h = new Harness();
    const ctl = await idleToPaused(h);
    h.unpauseFails.add('c-i1');
    const from = h.events.length;
    await ctl.ensureWarm('r1');
    const after = h.events.slice(from);
    const early = after.indexOf('put:i1=HEALTHY');
    const withdrawn = after.findIndex((e, k) => k > early && e.startsWith('put:') && !e.includes('i1='));
    const started = after.findIndex((e) => e.startsWith('start:'));
    assert.ok(early >= 0 && withdrawn > early && started > withdrawn, after.join(' | '));
  });

  it('cold and created wakes register the endpoint only once the runtime is ready', async () => {
    const h = new Harness();
    const ctl = h.controller([], { ...def, warm: 'none' });
    h.readyGate = deferred();
    const wake = ctl.ensureWarm('r1');
    await until(() => h.startsInFlight === 1);
    assert.ok(!h.events.some((e) => e.startsWith('put:') && e.includes('=HEALTHY')), h.events.join(' | '));
    h.readyGate.resolve();
    await wake;
    assert.equal(h.states.at(-1), 'warm');
  });

  it('a burst unpauses every paused instance it needs, then starts new ones', async () => {
    const h = new Harness();
    const ctl = await idleToPaused(h, ['i1', 'i2']);
    // Two ready instances: one drained by the autoscaler (paused), the last by scale-to-zero.
    await ctl.tick(undefined);
    await ctl.settled();
    assert.equal(ctl.set.inState('paused').length, 2, h.events.join(' | '));
    ctl.deps.decideScale = (s, signals, census, state) => ({ ...h.decide(s, signals, census, state), desired: 3 });
    const from = h.events.length;
    await ctl.ensureWarm('burst', 6);
    await ctl.settled();
    const acts = h.events.slice(from).filter((e) => /^(unpause|start):/.test(e)).map((e) => e.split(':')[0]).sort();
    assert.deepEqual(acts, ['start', 'unpause', 'unpause']);
    assert.equal(ctl.readyCount(), 3);
  });

  it('an unpause that fails (container removed behind our back) falls back to a cold start', async () => {
    const h = new Harness();
    const ctl = await idleToPaused(h);
    h.unpauseFails.add('c-i1');
    await ctl.ensureWarm('r1');
    assert.ok(h.events.includes('stop:c-i1'), 'the broken one is removed');
    assert.ok(h.events.some((e) => e.startsWith('start:n')), 'a new container serves');
    assert.equal(ctl.readyCount(), 1);
    assert.equal(h.tiers.at(-1), 'cold');
  });

  it('a paused container that dies leaves the set', async () => {
    const h = new Harness();
    const ctl = await idleToPaused(h);
    await ctl.instanceDied('c-i1');
    assert.equal(ctl.set.all().length, 0);
  });

  it('TTL expiry (by the injected clock) removes it on a tick', async () => {
    const h = new Harness();
    const ctl = await idleToPaused(h);
    h.t += 59_999;
    await ctl.tick(undefined);
    await ctl.settled();
    assert.ok(!h.events.includes('stop:c-i1'));
    h.t += 1;
    await ctl.tick(undefined);
    await ctl.settled();
    assert.ok(h.events.includes('stop:c-i1'));
    assert.ok(h.logs.some((l) => l.includes('paused_instance_removed') && l.includes('ttl_expired')));
    assert.equal(ctl.set.all().length, 0);
  });

  it('the budget evicts the least recently used paused instance (across functions)', async () => {
    const h = new Harness(100); // room for one 64 MB instance
    const a = await idleToPaused(h, ['a1']);
    h.t += 1000;
    const b = h.controller(['b1'], { ...pausedDef, name: 'other' });
    await b.tick(undefined);
    await b.settled();
    assert.ok(h.events.includes('stop:c-a1'), 'older one evicted to make room');
    assert.equal(a.set.all().length, 0);
    assert.equal(b.set.inState('paused').length, 1);
  });

  it('a paused instance of an outdated version is removed, never unpaused', async () => {
    const h = new Harness();
    const ctl = await idleToPaused(h);
    const inst = ctl.set.inState('paused')[0]!;
    inst.warm = { ...inst.warm!, version: 'old' };
    await ctl.ensureWarm('r1');
    assert.ok(!h.events.includes('unpause:c-i1'));
    await ctl.tick(undefined);
    await ctl.settled();
    assert.ok(h.events.includes('stop:c-i1'));
  });

  it('shutdown removes paused instances without draining them', async () => {
    const h = new Harness();
    const ctl = await idleToPaused(h);
    await ctl.close();
    assert.ok(h.events.includes('stop:c-i1'));
    assert.equal(ctl.set.all().length, 0);
  });

  it('a paused instance keeps no figures: its last in-flight count is not read as demand', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1', 'i2'], pausedDef);
    h.desired = 1;
    h.inflight.set('i1', [1, 0]);
    h.inflight.set('i2', [2]);
    await ctl.tick(undefined);
    await ctl.settled();
    const [p] = ctl.set.inState('paused');
    assert.equal(p?.id, 'i1', h.events.join(' | '));
    assert.equal(p.stats, undefined);
  });

  it('a freeze that times out is retried; one that keeps failing removes the instance', async () => {
    const h = new Harness();
    h.pauseFailures = 2;
    const ctl = await idleToPaused(h);
    assert.equal(ctl.set.inState('paused').length, 1, 'third attempt froze it');
    const h2 = new Harness();
    h2.pauseFailures = 3;
    const ctl2 = await idleToPaused(h2);
    assert.equal(ctl2.set.all().length, 0);
    assert.ok(h2.events.includes('stop:c-i1'));
    assert.ok(h2.logged('instance_pause_failed'));
  });

  it('warm: created removes the drained instance, pre-creates one, and a wake starts it (tier created)', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1'], { ...pausedDef, warm: 'created' });
    h.desired = 0;
    await ctl.tick(undefined);
    await ctl.settled();
    assert.ok(h.events.includes('stop:c-i1'));
    assert.ok(!h.events.some((e) => e.startsWith('pause:')));
    const [made] = ctl.set.inState('created');
    assert.ok(made?.containerId && made.endpoint === undefined, 'created, not started, no endpoint');
    assert.equal(ctl.set.size, 0);
    assert.deepEqual(ctl.desiredRoute().endpoints, []);
    await ctl.ensureWarm('r1');
    assert.ok(h.events.includes(`startCreated:${made.containerId}`));
    assert.ok(!h.events.some((e) => e.startsWith('start:')), 'no create + start');
    assert.equal(ctl.readyCount(), 1);
    assert.equal(h.tiers.at(-1), 'created');
    await ctl.close();
    assert.equal(ctl.set.all().length, 0);
  });

  it('a created container is removed at its TTL and at stack stop', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1'], { ...pausedDef, warm: 'created' });
    h.desired = 0;
    await ctl.tick(undefined);
    await ctl.settled();
    const [made] = ctl.set.inState('created');
    h.t += 60_000;
    await ctl.tick(undefined);
    await ctl.settled();
    assert.ok(h.events.includes(`stop:${made!.containerId}`));
    assert.equal(ctl.set.all().length, 0);
  });

  it('warm: none removes as before', async () => {
    const h = new Harness();
    const ctl = h.controller(['i1']);
    h.desired = 0;
    await ctl.tick(undefined);
    await ctl.settled();
    assert.ok(h.events.includes('stop:c-i1'));
    assert.ok(!h.events.some((e) => e.startsWith('pause:')));
  });
});
