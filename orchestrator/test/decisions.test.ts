import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FunctionDefinition, definitionWithDefaults } from '@faas/contracts';
import { adoptDecision } from '../src/adopt';
import { containerConfigHash } from '../src/config-hash';
import { routeSpec } from '../src/route-spec';
import { parseWake } from '../src/wake';

const def: FunctionDefinition = definitionWithDefaults('hello', '/x', {
  concurrency: 4, timeoutMs: 5000, scaling: { idleTimeoutMs: 1000, maxInstances: 3, targetConcurrency: 2 }, memoryMb: 64, maxBodyBytes: 1024,
});

describe('routeSpec', () => {
  it('maps ready to HEALTHY and draining to DRAINING, sorted by id', () => {
    const spec = routeSpec(def, [
      { id: 'z', address: '127.0.0.1', port: 2, status: 'draining' },
      { id: 'a', address: '127.0.0.1', port: 1, status: 'ready' },
    ]);
    assert.deepEqual(spec, {
      name: 'hello', timeoutMs: 5000, concurrency: 4,
      endpoints: [
        { id: 'a', address: '127.0.0.1', port: 1, health: 'HEALTHY' },
        { id: 'z', address: '127.0.0.1', port: 2, health: 'DRAINING' },
      ],
    });
  });
});

describe('parseWake', () => {
  it('accepts a valid message', () => {
    const r = parseWake(JSON.stringify({ fn: 'hello', requestId: 'r1', at: 5 }));
    assert.deepEqual(r, { ok: true, wake: { fn: 'hello', requestId: 'r1', at: 5 }, waiting: 1 });
  });
  it('reads the count of held requests when the sender gives one', () => {
    const r = parseWake(JSON.stringify({ fn: 'hello', requestId: 'r1', at: 5, waiting: 12 }));
    assert.equal(r.ok && r.waiting, 12);
    const bad = parseWake(JSON.stringify({ fn: 'hello', requestId: 'r1', at: 5, waiting: -3 }));
    assert.equal(bad.ok && bad.waiting, 1);
  });
  it('rejects garbage with a reason', () => {
    assert.deepEqual(parseWake('nope'), { ok: false, reason: 'not JSON' });
    assert.deepEqual(parseWake('42'), { ok: false, reason: 'not an object' });
    assert.equal(parseWake(JSON.stringify({ fn: 'Bad.Name' })).ok, false);
    assert.equal(parseWake(JSON.stringify({ requestId: 'x' })).ok, false);
  });
});

describe('adoptDecision', () => {
  const configHash = containerConfigHash(def);
  const current = new Map([['hello', { version: '1', image: 'faas-fn-hello:1-abc', configHash, warm: 'paused' as const }]]);
  const c = { containerId: 'c1', fn: 'hello', version: '1', instanceId: 'i1', image: 'faas-fn-hello:1-abc', configHash, running: true, paused: false, created: false };
  it('adopts a running container of the current build', () => {
    assert.deepEqual(adoptDecision(c, current), { action: 'adopt' });
  });
  it('removes undefined functions, stopped and unlabelled containers; drains old versions and images', () => {
    const table: [Partial<typeof c>, string][] = [
      [{ fn: 'gone' }, 'remove'],
      [{ running: false }, 'remove'],
      [{ instanceId: '' }, 'remove'],
      [{ version: '0', running: false }, 'remove'],
      // An interrupted rollout's old version may still serve requests in flight: never adopted as current.
      [{ version: '0' }, 'drain'],
      [{ image: 'faas-fn-hello:1-old' }, 'drain'],
    ];
    for (const [change, action] of table) assert.equal(adoptDecision({ ...c, ...change }, current).action, action, JSON.stringify(change));
    // The current version failed to build: the previous one keeps serving.
    const unbuilt = new Map([['hello', { version: '2', image: undefined, configHash, warm: 'paused' as const }]]);
    assert.equal(adoptDecision(c, unbuilt).action, 'adopt');
  });
  it('adopts a paused container of the current build, removes it when outdated or no longer wanted paused', () => {
    const paused = { ...c, running: false, paused: true };
    assert.deepEqual(adoptDecision(paused, current), { action: 'adopt' });
    assert.equal(adoptDecision({ ...paused, version: '0' }, current).action, 'remove');
    assert.equal(adoptDecision({ ...paused, image: 'faas-fn-hello:1-old' }, current).action, 'remove');
    const none = new Map([['hello', { version: '1', image: 'faas-fn-hello:1-abc', configHash, warm: 'none' as const }]]);
    assert.equal(adoptDecision(paused, none).action, 'remove');
    assert.deepEqual(adoptDecision(c, none), { action: 'adopt' });
  });
  it('adopts a created (never started) container only for a function with the created tier', () => {
    const created = { ...c, running: false, created: true };
    assert.equal(adoptDecision(created, current).action, 'remove');
    const wantsCreated = new Map([['hello', { version: '1', image: 'faas-fn-hello:1-abc', configHash, warm: 'created' as const }]]);
    assert.deepEqual(adoptDecision(created, wantsCreated), { action: 'adopt' });
  });
});

describe('containerConfigHash and adoption of changed configurations', () => {
  const hash = containerConfigHash(def);
  const owned = (d: FunctionDefinition) => ({
    containerId: 'c1', fn: 'hello', version: '1', instanceId: 'i1', image: 'img', configHash: containerConfigHash(d), running: true, paused: false, created: false,
  });
  const current = new Map([['hello', { version: '1', image: 'img', configHash: hash, warm: 'paused' as const }]]);

  it('is stable: same definition, same hash; env order does not matter', () => {
    assert.equal(containerConfigHash({ ...def }), hash);
    assert.equal(
      containerConfigHash({ ...def, env: { A: '1', B: '2' } }),
      containerConfigHash({ ...def, env: { B: '2', A: '1' } }),
    );
  });
  it('removes a container created with other limits, concurrency, timeout, env or handler', () => {
    const changes: Partial<FunctionDefinition>[] = [
      { memoryMb: 128 }, { cpus: 0.5 }, { concurrency: 5 }, { timeoutMs: 6000 }, { env: { A: '1' } }, { handler: 'main.handler' }, { handlerStyle: 'lambda' }, { maxBodyBytes: 2048 },
    ];
    for (const change of changes) {
      const d = { ...def, ...change };
      assert.notEqual(containerConfigHash(d), hash, JSON.stringify(change));
      const decision = adoptDecision(owned(d), current);
      assert.equal(decision.action, 'drain', JSON.stringify(change));
      assert.match(decision.action === 'drain' ? decision.reason : '', /limits, env or handler/);
    }
  });
  it('ignores fields that do not reach the container (idle timeout, max instances)', () => {
    assert.equal(containerConfigHash({ ...def, scaling: { ...def.scaling, idleTimeoutMs: 99_000, maxInstances: 7 } }), hash);
    assert.deepEqual(adoptDecision(owned({ ...def, scaling: { ...def.scaling, idleTimeoutMs: 99_000 } }), current), { action: 'adopt' });
  });
  it('drains a container without the config label (created by an older orchestrator)', () => {
    assert.equal(adoptDecision({ ...owned(def), configHash: '' }, current).action, 'drain');
  });
});
