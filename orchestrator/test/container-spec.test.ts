/** containerCreateOptions and containerConfigHash: isolation, limits and the secrets mount, as tables. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type FunctionDefinition, LABELS, definitionWithDefaults } from '@faas/contracts';
import { containerConfigHash } from '../src/config-hash';
import { type ContainerContext, containerCreateOptions } from '../src/container-spec';

const CTX: ContainerContext = { stack: 's1', run: 'r1', mode: 'loopback', network: 'faas-functions' };
const SECRET_PATH = '/defs/secrets/api.token';

function def(over: Partial<FunctionDefinition> = {}): FunctionDefinition {
  return definitionWithDefaults('fn', '/defs/fn', { memoryMb: 96, cpus: 0.5, pidsLimit: 64, concurrency: 3, env: { GREETING: 'hi' }, ...over });
}
const spec = (d: FunctionDefinition) => ({ def: d, image: 'faas-fn-fn:1-abc', instanceId: '0123456789ab' });

describe('containerCreateOptions', () => {
  const cases: { name: string; d: FunctionDefinition; ctx?: ContainerContext; secretsSource?: string; check: (o: ReturnType<typeof containerCreateOptions>) => void }[] = [
    {
      name: 'limits from the definition',
      d: def(),
      check: (o) => {
        assert.equal(o.HostConfig?.Memory, 96 * 1024 * 1024);
        assert.equal(o.HostConfig?.NanoCpus, 0.5e9);
        assert.equal(o.HostConfig?.PidsLimit, 64);
        assert.ok(o.Env?.includes('FAAS_CONCURRENCY=3'));
        assert.ok(o.Env?.includes('FAAS_MEMORY_MB=96'));
      },
    },
    {
      name: 'isolation: read-only root, writable /tmp, no capabilities, no-new-privileges',
      d: def(),
      check: (o) => {
        assert.equal(o.HostConfig?.ReadonlyRootfs, true);
        assert.deepEqual(o.HostConfig?.Tmpfs, { '/tmp': 'rw,size=64m' });
        assert.deepEqual(o.HostConfig?.CapDrop, ['ALL']);
        assert.deepEqual(o.HostConfig?.SecurityOpt, ['no-new-privileges']);
        assert.equal(o.HostConfig?.Privileged, undefined);
        assert.equal(o.User, undefined, 'the image decides the (non-root) user');
      },
    },
    {
      name: 'env of the definition; labels name stack, run and function',
      d: def(),
      check: (o) => {
        assert.ok(o.Env?.includes('GREETING=hi'));
        assert.equal(o.Labels?.[LABELS.stack], 's1');
        assert.equal(o.Labels?.[LABELS.run], 'r1');
        assert.equal(o.Labels?.[LABELS.function], 'fn');
      },
    },
    {
      name: 'no secrets: no mount',
      d: def(),
      check: (o) => assert.equal(o.HostConfig?.Mounts, undefined),
    },
    {
      name: 'secrets: one read-only bind at /run/secrets; the path is in no env or label',
      d: def({ secrets: { 'api-token': SECRET_PATH } }),
      secretsSource: '/state/secrets/s1/0123456789ab',
      check: (o) => {
        assert.deepEqual(o.HostConfig?.Mounts, [{ Type: 'bind', Source: '/state/secrets/s1/0123456789ab', Target: '/run/secrets', ReadOnly: true }]);
        assert.equal(o.HostConfig?.Binds, undefined);
        const visible = JSON.stringify([o.Env, o.Labels]);
        assert.ok(!visible.includes('api-token') && !visible.includes(SECRET_PATH), visible);
      },
    },
    {
      name: 'network mode: the functions network, no published port',
      d: def(),
      ctx: { ...CTX, mode: 'network', run: '' },
      check: (o) => {
        assert.equal(o.HostConfig?.NetworkMode, 'faas-functions');
        assert.equal(o.HostConfig?.PortBindings, undefined);
        assert.equal(o.Labels?.[LABELS.run], undefined);
      },
    },
  ];
  for (const c of cases) test(c.name, () => c.check(containerCreateOptions(spec(c.d), c.ctx ?? CTX, c.secretsSource)));
});

describe('containerConfigHash', () => {
  const base = containerConfigHash(def({ env: { A: '1', B: '2' } }));
  const cases: { name: string; d: FunctionDefinition; same: boolean }[] = [
    { name: 'an equal definition', d: def({ env: { A: '1', B: '2' } }), same: true },
    { name: 'env in another order', d: def({ env: { B: '2', A: '1' } }), same: true },
    { name: 'another pids limit', d: def({ env: { A: '1', B: '2' }, pidsLimit: 65 }), same: false },
    { name: 'another memory limit', d: def({ env: { A: '1', B: '2' }, memoryMb: 97 }), same: false },
    { name: 'a secret added', d: def({ env: { A: '1', B: '2' }, secrets: { 'api-token': SECRET_PATH } }), same: false },
  ];
  for (const c of cases) test(`${c.name}: ${c.same ? 'same' : 'other'} hash`, () => assert.equal(containerConfigHash(c.d) === base, c.same));

  test('secret names count, their paths do not (a moved file is the same mount)', () => {
    const a = containerConfigHash(def({ secrets: { 'api-token': '/a/x' } }));
    assert.equal(containerConfigHash(def({ secrets: { 'api-token': '/b/y' } })), a);
    assert.notEqual(containerConfigHash(def({ secrets: { other: '/a/x' } })), a);
  });
});
