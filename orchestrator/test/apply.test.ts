/** Applying a definition set (apply.ts) on the typed fakes: add, remove, roll out, status. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FunctionDefinition, createLogger } from '@faas/contracts';
import { type FleetEnv, addController, applyDefinitions, fleetStatus } from '../src/apply';
import { FunctionController } from '../src/function-controller';
import { Harness, def } from './controller-fakes';

function fleet(h: Harness): FleetEnv {
  return {
    controllers: new Map(), rollouts: new Map(), retiring: new Map(),
    newController: (d) => new FunctionController(d, h.deps()),
    image: h.deps().image,
    log: createLogger('test', {}, (l) => void h.logs.push(l)),
    xds: { remove: async (fn) => h.events.push(`xds_removed:${fn}`) },
    state: { remove: async (fn) => void h.events.push(`state_removed:${fn}`) },
  };
}

describe('applyDefinitions', () => {
  it('adds, removes and rolls out in one apply; status follows', async () => {
    const h = new Harness();
    const env = fleet(h);
    const old: FunctionDefinition = { ...def, name: 'old' };
    for (const d of [def, old]) addController(env, d).rollouts.built({ image: `img-${d.version}` });
    const requested = new Map([def, old].map((d) => [d.name, d]));
    const added: FunctionDefinition = { ...def, name: 'added', version: '9' };
    await applyDefinitions(env, requested, [{ ...def, version: '2' }, added]);
    assert.deepEqual([...env.controllers.keys()].sort(), ['added', 'hello']);
    assert.equal(env.controllers.get('hello')!.def.version, '2');
    assert.ok(h.events.includes('xds_removed:old') && h.events.includes('state_removed:old'));
    assert.equal(env.retiring.size, 0, 'the removal finished');
    assert.deepEqual(fleetStatus(env).map((s) => `${s.name}:${s.activeVersion}`), ['added:9', 'hello:2']);
    assert.deepEqual([...requested.keys()].sort(), ['added', 'hello']);
  });

  it('an added function whose build fails is registered cold and shown failed', async () => {
    const h = new Harness();
    const env = fleet(h);
    h.buildFails = () => new Error('base image missing');
    await applyDefinitions(env, new Map(), [{ ...def, name: 'broken' }]);
    const [s] = fleetStatus(env);
    assert.equal(s?.activeVersion, null);
    assert.equal(s?.versions[0]?.state, 'failed');
    assert.deepEqual(h.states, ['cold']);
  });
});
