import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CALL_SOCKET, CONTAINER_CALL_URL, FaasError, definitionWithDefaults } from '@faas/contracts';
import { callReachOf } from '../src/config';
import { type CallReach, type ContainerContext, containerCreateOptions } from '../src/container-spec';

const def = definitionWithDefaults('fanclub', '/x', {});
const spec = { def, image: 'img', instanceId: 'abc123' };
const base: ContainerContext = { stack: 's', run: '', mode: 'loopback', network: 'n' };

describe('the path to the gateway in each container (call)', () => {
  const table: { name: string; call: CallReach | undefined; env: string | undefined; binds: string[] | undefined }[] = [
    { name: 'none: no env, no mount', call: undefined, env: undefined, binds: undefined },
    {
      name: 'native stack: the socket dir mounted read-only, FAAS_CALL_URL on the mount',
      call: { socketDir: '/state/call' }, env: `FAAS_CALL_URL=${CONTAINER_CALL_URL}`, binds: [`/state/call:${CALL_SOCKET.containerDir}:ro`],
    },
    { name: 'compose: the gateway URL, no mount', call: { url: 'http://gateway:8080' }, env: 'FAAS_CALL_URL=http://gateway:8080', binds: undefined },
  ];
  for (const row of table) {
    it(row.name, () => {
      const opts = containerCreateOptions(spec, { ...base, ...(row.call ? { call: row.call } : {}) });
      assert.equal(opts.Env?.find((e) => e.startsWith('FAAS_CALL_URL=')), row.env);
      assert.deepEqual(opts.HostConfig?.Binds, row.binds);
      // Nothing else opens: same isolation as without calls.
      assert.equal(opts.HostConfig?.ReadonlyRootfs, true);
      assert.deepEqual(opts.HostConfig?.CapDrop, ['ALL']);
    });
  }
  assert.equal(CONTAINER_CALL_URL, 'unix:/run/faas-call/gateway.sock');
});

describe('callReachOf (orchestrator env)', () => {
  const table: { env: NodeJS.ProcessEnv; want: CallReach | undefined | 'error' }[] = [
    { env: {}, want: undefined },
    { env: { FAAS_CALL_SOCKET_DIR: '/repo/.stack/call' }, want: { socketDir: '/repo/.stack/call' } },
    { env: { FAAS_CALL_URL: 'http://gateway:8080' }, want: { url: 'http://gateway:8080' } },
    { env: { FAAS_CALL_SOCKET_DIR: 'relative/dir' }, want: 'error' },
    { env: { FAAS_CALL_SOCKET_DIR: '/a:b' }, want: 'error' },
    { env: { FAAS_CALL_URL: 'ftp://x' }, want: 'error' },
    { env: { FAAS_CALL_URL: 'http://gateway:8080', FAAS_CALL_SOCKET_DIR: '/d' }, want: 'error' },
  ];
  for (const row of table) {
    it(JSON.stringify(row.env), () => {
      if (row.want === 'error') assert.throws(() => callReachOf(row.env), (e: unknown) => e instanceof FaasError && e.code === 'invalid_env');
      else assert.deepEqual(callReachOf(row.env), row.want);
    });
  }
});
