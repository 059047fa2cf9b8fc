/**
 * Version rollouts and function removal on the typed fakes (controller-fakes.ts): injected
 * clock and sleep, recorded router pushes, no wall-clock waits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FunctionRouteSpec } from '@faas/contracts';
import { retireFunction } from '../src/retire';
import { FunctionRollouts } from '../src/rollout';
import { Harness, def, deferred } from './controller-fakes';

const v = (version: string, over: Partial<typeof def> = {}) => ({ ...def, version, ...over });
const health = (p: FunctionRouteSpec) => p.endpoints.map((e) => `${e.id}=${e.health}`).join(',');

function setup(ids: string[] = ['i1', 'i2']) {
  const h = new Harness();
  const ctl = h.controller(ids);
  const r = new FunctionRollouts(ctl);
  r.built({ image: 'img-1' });
  return { h, ctl, r };
}

describe('version rollout', () => {
  it('warm: new instances ready, ONE push with new HEALTHY and old DRAINING, then the old drain and stop', async () => {
    const { h, ctl, r } = setup();
    h.inflight.set('i1', [2, 1, 0]);
    await r.request(v('2'));
    const switchPush = h.puts.findIndex((p) => p.endpoints.some((e) => e.id.startsWith('n')));
    assert.equal(health(h.puts[switchPush]!), 'i1=DRAINING,i2=DRAINING,n1=HEALTHY,n2=HEALTHY', 'one push switches both versions');
    const switched = h.index(`put:${health(h.puts[switchPush]!)}`);
    assert.ok(h.index('start:n1') < switched && h.index('start:n2') < switched, 'new instances started before the switch');
    assert.ok(h.index('stats:i1=0', switched) < h.index('stop:c-i1'), 'the old instance stopped only after its in-flight requests finished');
    assert.deepEqual(ctl.set.all().map((i) => `${i.id}@${i.version}=${i.state}`).sort(), ['n1@2=ready', 'n2@2=ready']);
    assert.equal(ctl.def.version, '2');
    assert.deepEqual(r.status().versions.map((x) => `${x.version}:${x.state}`), ['2:active'], 'the old version retired from the list');
    assert.equal(r.status().activeVersion, '2');
    assert.ok(h.logged('rollout_done'));
    assert.ok(h.events.includes('prune:hello:img-2+img-1'), 'images other than the active and the previous version are pruned');
  });

  it('new route settings apply with the switch', async () => {
    const { h, r } = setup(['i1']);
    await r.request(v('2', { timeoutMs: 900 }));
    const first = h.puts.find((p) => p.endpoints.some((e) => e.health === 'DRAINING'))!;
    assert.equal(first.timeoutMs, 900);
  });

  it('a failed build marks the version failed with its log, and the old version keeps serving untouched', async () => {
    const { h, ctl, r } = setup(['i1']);
    h.buildFails = (d) => (d.version === '2' ? new Error('image build of hello@2 failed: step 3\nSyntaxError: bad') : undefined);
    await r.request(v('2'));
    assert.deepEqual(h.puts, [], 'routers never told anything');
    assert.ok(!h.events.some((e) => e.startsWith('start:') || e.startsWith('stop:')));
    assert.equal(ctl.def.version, '1');
    const s = r.status();
    assert.equal(s.activeVersion, '1');
    const failed = s.versions.find((x) => x.version === '2')!;
    assert.equal(failed.state, 'failed');
    assert.match(failed.error ?? '', /SyntaxError: bad/);
    assert.ok(h.logged('rollout_failed'));
  });

  it('cold: only the definition is switched; the next wake starts the new version', async () => {
    const { h, ctl, r } = setup([]);
    await r.request(v('2'));
    assert.ok(!h.events.some((e) => e.startsWith('start:')));
    assert.equal(ctl.def.version, '2');
    await ctl.ensureWarm('r1');
    assert.deepEqual(ctl.set.all().map((i) => i.version), ['2']);
  });

  it('a second change before the switch supersedes the first: only the newest version ends up running', async () => {
    const { h, ctl, r } = setup(['i1']);
    h.readyGate = deferred();
    const first = r.request(v('2'));
    await new Promise((res) => setImmediate(res));
    assert.equal(ctl.set.census().starting, 1, 'v2 instance starting');
    const mid = r.status();
    assert.equal(mid.activeVersion, '1');
    assert.deepEqual(mid.versions.map((x) => `${x.version}:${x.state}:${JSON.stringify(x.instances)}`), ['1:active:{"ready":1}', '2:starting:{"starting":1}']);
    const second = r.request(v('3'));
    h.readyGate.resolve();
    h.readyGate = undefined;
    await Promise.all([first, second]);
    assert.deepEqual(ctl.set.all().map((i) => `${i.version}=${i.state}`), ['3=ready']);
    assert.ok(!h.puts.some((p) => p.endpoints.some((e) => e.id === 'n1')), 'the superseded v2 instance was never routed');
    assert.ok(h.events.includes('stop:c-n1') && h.events.includes('stop:c-i1'));
    assert.deepEqual(r.status().versions.map((x) => `${x.version}:${x.state}`), ['3:active']);
    assert.ok(h.logged('rollout_superseded'));
  });

  it('the autoscaler does not act while a rollout owns the instances', async () => {
    const { h, ctl, r } = setup(['i1']);
    h.readyGate = deferred();
    const p = r.request(v('2'));
    await new Promise((res) => setImmediate(res));
    h.desired = 4;
    await ctl.tick(undefined);
    h.desired = 0;
    await ctl.tick(undefined);
    await new Promise((res) => setImmediate(res));
    // A start or a removal would show in the set at once (both change it synchronously).
    assert.deepEqual(ctl.set.all().map((i) => `${i.id}=${i.state}`).sort(), ['i1=ready', 'n1=starting']);
    assert.deepEqual(h.events.filter((e) => e.startsWith('start:') || e.startsWith('stop:')), ['start:n1'], 'no scale-up, no scale-down');
    h.readyGate.resolve();
    await p;
    await ctl.settled();
    assert.deepEqual(h.events.filter((e) => e.startsWith('start:')), ['start:n1'], 'no scale-up started during the rollout');
    assert.ok(!h.states.includes('stopping'), 'no removal of the last instance began');
  });

  it('routers refusing the switch: back to the old version, the new instances stop, the version is failed', async () => {
    const { h, ctl, r } = setup(['i1']);
    const put = h.xds.put;
    h.xds.put = async (spec) => {
      if (spec.endpoints.some((e) => e.id === 'n1' && e.health === 'HEALTHY')) throw new Error('no ACK from router r1');
      return put(spec);
    };
    await r.request(v('2'));
    assert.equal(ctl.def.version, '1');
    assert.deepEqual(ctl.set.all().map((i) => `${i.id}=${i.state}`), ['i1=ready']);
    assert.equal(health(h.puts.at(-1)!), 'i1=HEALTHY');
    assert.ok(h.events.includes('stop:c-n1'));
    assert.match(r.status().versions.find((x) => x.version === '2')?.error ?? '', /no ACK/);
  });

  it('a new instance that fails to start: the old version keeps serving, the version is failed', async () => {
    const { h, ctl, r } = setup(['i1']);
    h.probe.waitReady = async () => {
      throw new Error('runtime exited during start');
    };
    await r.request(v('2'));
    assert.deepEqual(ctl.set.all().map((i) => `${i.id}@${i.version}=${i.state}`), ['i1@1=ready']);
    assert.match(r.status().versions.find((x) => x.version === '2')?.error ?? '', /runtime exited/);
  });

  it('at max_instances the new instances exceed it until the old ones leave (logged)', async () => {
    const { h, ctl, r } = setup(['i1', 'i2', 'i3', 'i4']);
    await r.request(v('2'));
    assert.equal(ctl.set.census().ready, 4);
    assert.ok(h.logged('rollout_over_max_instances'));
  });
});

describe('stale versions', () => {
  it('a ready instance of another version (a start that raced the switch) drains once the serving version has one', async () => {
    const { h, ctl, r } = setup(['i1', 'i2']);
    ctl.def = v('2');
    await r.sweepStale();
    assert.deepEqual(ctl.set.all().map((i) => i.id), ['i1', 'i2'], 'no instance of v2 serves yet: both keep serving');
    ctl.set.get('i2')!.version = '2';
    await r.sweepStale();
    assert.deepEqual(ctl.set.all().map((i) => `${i.id}@${i.version}`), ['i2@2']);
    assert.ok(h.index('put:i1=DRAINING,i2=HEALTHY') < h.index('stop:c-i1'));
  });
});

describe('function removal', () => {
  it('gateways first (state deleted), then every instance drains, then routers forget it', async () => {
    const { h, ctl, r } = setup(['i1', 'i2']);
    h.inflight.set('i1', [1, 0]);
    await retireFunction(ctl, r, {
      state: { remove: async (fn) => void h.events.push(`state_removed:${fn}`) },
      xds: { remove: async (fn) => h.events.push(`xds_removed:${fn}`) },
    });
    const gone = h.index('state_removed:hello');
    const draining = h.index('put:i1=DRAINING,i2=DRAINING', gone);
    assert.ok(h.index('stats:i1=0', draining) < h.index('stop:c-i1'));
    assert.ok(h.index('stop:c-i1') < h.index('xds_removed:hello') && h.index('stop:c-i2') < h.index('xds_removed:hello'));
    assert.deepEqual(h.states, [], 'no state is published for a removed function');
    assert.equal(ctl.set.size, 0);
    await assert.rejects(ctl.ensureWarm('late'), /shutting down/);
  });
});
