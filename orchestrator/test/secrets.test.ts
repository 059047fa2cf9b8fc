/**
 * Secrets on disk (secret-mounts.ts, secrets.ts, host-path.ts) with the real file system:
 * ownership and modes, clear errors naming function and file, release and sweep, the keyed
 * digest, and the host path of a directory behind a container's mounts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { FaasError, type FunctionDefinition, createLogger, definitionWithDefaults } from '@faas/contracts';
import { FUNCTION_UID, collectBuildInputs } from '../src/build-context';
import { hostPathVia } from '../src/host-path';
import { SecretMounts } from '../src/secret-mounts';
import { readSecrets, secretProblems, secretsDigest, secretsDigestKey } from '../src/secrets';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-secrets-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const log = createLogger('secrets-test', {}, () => undefined);

function secretFile(name: string, value: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, value);
  return f;
}
const def = (secrets: Record<string, string>): FunctionDefinition => definitionWithDefaults('fn', tmp, { secrets });
const mounts = (dir: string, hostDir = dir) => new SecretMounts({ dir, hostDir: async () => hostDir, stack: 'st', log });
const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe('reading secrets', () => {
  test('contents by name', () => {
    const d = def({ a: secretFile('a', 'value-a'), b: secretFile('b', 'value-b') });
    assert.deepEqual([...readSecrets(d)].map(([k, v]) => [k, v.toString()]), [['a', 'value-a'], ['b', 'value-b']]);
  });

  test('a missing file: secret_unreadable naming the function, the secret and the file', () => {
    const missing = path.join(tmp, 'nope.secret');
    const d = def({ token: missing });
    assert.throws(() => readSecrets(d), (err: unknown) => {
      assert.ok(err instanceof FaasError);
      assert.equal(err.code, 'secret_unreadable');
      assert.match(err.message, /function "fn": secret "token": cannot read .*nope\.secret: no such file/);
      assert.deepEqual(err.context, { fn: 'fn', secret: 'token', file: missing, reason: 'no such file' });
      return true;
    });
    assert.deepEqual(secretProblems(d), [{ fn: 'fn', secret: 'token', file: missing, reason: 'no such file' }]);
  });

  test('a directory is not a secret', () => {
    assert.equal(secretProblems(def({ d: tmp }))[0]?.reason, 'not a regular file');
  });

  test('digest: empty without secrets, changes with content and key, never the plain hash', () => {
    const f = secretFile('dg', 'one');
    const key = Buffer.alloc(32, 1);
    assert.equal(secretsDigest(def({}), key), '');
    const first = secretsDigest(def({ x: f }), key);
    assert.match(first, /^[0-9a-f]{16}$/);
    assert.equal(secretsDigest(def({ x: f }), key), first);
    assert.notEqual(secretsDigest(def({ x: f }), Buffer.alloc(32, 2)), first);
    fs.writeFileSync(f, 'two');
    assert.notEqual(secretsDigest(def({ x: f }), key), first);
  });
});

describe('SecretMounts', () => {
  test('prepare writes private files for uid 10001; release removes them', async () => {
    const dir = path.join(tmp, 'state-1');
    const m = mounts(dir, '/host/view');
    const d = def({ 'api-token': secretFile('t1', 's3cr3t') });
    const source = await m.prepare(d, 'aaaaaaaaaaaa');
    assert.equal(source, '/host/view/st/aaaaaaaaaaaa');
    const inst = path.join(dir, 'st', 'aaaaaaaaaaaa');
    assert.equal(fs.readFileSync(path.join(inst, 'api-token'), 'utf8'), 's3cr3t');
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(path.join(dir, 'st')), 0o700);
    if (process.getuid?.() === 0) {
      assert.equal(fs.statSync(inst).uid, FUNCTION_UID);
      assert.equal(fs.statSync(path.join(inst, 'api-token')).uid, FUNCTION_UID);
      assert.equal(mode(inst), 0o500);
      assert.equal(mode(path.join(inst, 'api-token')), 0o400);
    } else {
      assert.equal(mode(path.join(inst, 'api-token')), 0o444);
    }
    await m.release('aaaaaaaaaaaa');
    assert.equal(fs.existsSync(inst), false);
    await m.release('aaaaaaaaaaaa');
  });

  test('no secrets: nothing written, no mount', async () => {
    const dir = path.join(tmp, 'state-2');
    assert.equal(await mounts(dir).prepare(def({}), 'bbbbbbbbbbbb'), undefined);
    assert.equal(fs.existsSync(dir), false);
  });

  test('an unreadable secret leaves no directory behind', async () => {
    const dir = path.join(tmp, 'state-3');
    await assert.rejects(mounts(dir).prepare(def({ x: path.join(tmp, 'missing') }), 'cccccccccccc'), { code: 'secret_unreadable' });
    assert.equal(fs.existsSync(path.join(dir, 'st', 'cccccccccccc')), false);
  });

  test('a new instance reads the file again (a changed secret reaches the next instance)', async () => {
    const dir = path.join(tmp, 'state-4');
    const m = mounts(dir);
    const f = secretFile('rot', 'old');
    await m.prepare(def({ k: f }), 'dddddddddddd');
    fs.writeFileSync(f, 'new');
    await m.prepare(def({ k: f }), 'eeeeeeeeeeee');
    assert.equal(fs.readFileSync(path.join(dir, 'st', 'dddddddddddd', 'k'), 'utf8'), 'old');
    assert.equal(fs.readFileSync(path.join(dir, 'st', 'eeeeeeeeeeee', 'k'), 'utf8'), 'new');
  });

  test('sweep keeps live instances, removes the rest; the stack directory goes when empty', async () => {
    const dir = path.join(tmp, 'state-5');
    const m = mounts(dir);
    const d = def({ k: secretFile('sw', 'v') });
    for (const id of ['live00000000', 'dead00000000', 'dead11111111']) await m.prepare(d, id);
    assert.deepEqual((await m.sweep(new Set(['live00000000']))).sort(), ['dead00000000', 'dead11111111']);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'st')), ['live00000000']);
    await m.removeStackDir();
    assert.ok(fs.existsSync(path.join(dir, 'st')), 'not removed while an instance still uses it');
    await m.release('live00000000');
    await m.removeStackDir();
    assert.equal(fs.existsSync(path.join(dir, 'st')), false);
  });

  test('instance ids cannot leave the stack directory', async () => {
    await assert.rejects(mounts(path.join(tmp, 'state-6')).prepare(def({ k: secretFile('p', 'v') }), '../escape'), { code: 'invalid_instance_id' });
  });

  test('the digest key is created once and kept', () => {
    const dir = path.join(tmp, 'state-7');
    const k1 = secretsDigestKey(dir);
    assert.equal(k1.length, 32);
    assert.deepEqual(secretsDigestKey(dir), k1);
    assert.equal(mode(path.join(dir, 'digest.key')), 0o600);
  });
});

describe('hostPathVia', () => {
  const mountsOf = [
    { Source: '/var/run/docker.sock', Destination: '/var/run/docker.sock' },
    { Source: '/home/u/faas/.faas/secrets', Destination: '/app/.faas/secrets' },
    { Source: '/home/u/faas/functions', Destination: '/app/functions' },
  ];
  const cases: [string, string | undefined][] = [
    ['/app/.faas/secrets', '/home/u/faas/.faas/secrets'],
    ['/app/.faas/secrets/compose', '/home/u/faas/.faas/secrets/compose'],
    ['/app/.faas/secretsX', undefined],
    ['/tmp/secrets', undefined],
  ];
  for (const [dir, want] of cases) test(`${dir} -> ${want}`, () => assert.equal(hostPathVia(mountsOf, dir), want));
  test('the deepest mount wins', () => {
    assert.equal(hostPathVia([{ Source: '/h', Destination: '/app' }, { Source: '/s', Destination: '/app/.faas/secrets' }], '/app/.faas/secrets/x'), '/s/x');
  });
});

describe('build context', () => {
  test('a secret file inside the code folder is not part of the image', async () => {
    const code = path.join(tmp, 'code');
    const runtime = path.join(tmp, 'runtime');
    fs.mkdirSync(code);
    fs.mkdirSync(runtime);
    fs.writeFileSync(path.join(runtime, 'server.js'), '// runtime');
    fs.writeFileSync(path.join(code, 'index.js'), 'exports.handler = () => 1;');
    fs.writeFileSync(path.join(code, 'token.secret'), 'in-folder-secret-value');
    const d = definitionWithDefaults('fn', code, { secrets: { token: path.join(code, 'token.secret') } });
    const inputs = await collectBuildInputs(d, runtime, 'base', { pipPython: 'python3' });
    assert.deepEqual(inputs.files.map((f) => f.rel).filter((r) => r.startsWith('function/')), ['function/index.js']);
    assert.ok(!inputs.files.some((f) => f.data.includes('in-folder-secret-value')));
    assert.ok(!inputs.dockerfile.includes('secret'));
  });
});
