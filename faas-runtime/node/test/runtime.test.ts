/** Node-only behaviour (the shared contract is in faas-runtime/conformance): real functions, callbacks, load errors. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { type RuntimeUnderTest, request, runtimePool } from '@faas/runtime-conformance';

const FUNCTIONS_DIR = path.resolve(__dirname, '..', '..', '..', '..', 'functions');
const fixtures = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-rt-node-'));
fs.writeFileSync(path.join(fixtures, 'callback.js'), `exports.handler = (event, context, cb) => { setTimeout(() => cb(null, 'cb ok'), 5); };\n`);
fs.writeFileSync(path.join(fixtures, 'notfn.js'), `exports.handler = 42;\n`);
const node: RuntimeUnderTest = { name: 'node', command: process.execPath, args: [path.resolve(__dirname, '..', 'src', 'server.js')], fixturesDir: fixtures };
const pool = runtimePool(node);
after(() => {
  pool.killAll();
  fs.rmSync(fixtures, { recursive: true, force: true });
});

const json = (b: Buffer): Record<string, unknown> => JSON.parse(b.toString()) as Record<string, unknown>;

describe('node runtime with the example functions', () => {
  test('hello: greets, echoes the request id', async () => {
    const rt = await pool.start({ FAAS_FUNCTION: 'hello', FAAS_VERSION: '1.10', FAAS_CODE_DIR: path.join(FUNCTIONS_DIR, 'hello') });
    const r = await request(rt.port, { path: '/?name=ada', headers: { 'x-request-id': 'req-123' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'Hello, ada!\n');
    assert.equal(r.headers['x-request-id'], 'req-123');
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    assert.equal((await request(rt.port, { path: '/' })).body.toString(), 'Hello, world!\n');
    const stats = json((await request(rt.port, { path: '/_faas/stats' })).body);
    assert.equal(stats.function, 'hello');
    assert.equal(stats.served, 2);
  });

  test('echo: 1 MiB byte for byte', async () => {
    const rt = await pool.start({ FAAS_FUNCTION: 'echo', FAAS_CODE_DIR: path.join(FUNCTIONS_DIR, 'echo') });
    const payload = randomBytes(1024 * 1024);
    const r = await request(rt.port, { method: 'POST', path: '/', body: payload, headers: { 'content-type': 'application/x-test' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/x-test');
    assert.ok(r.body.equals(payload));
  });

  test('callback-style handlers work', async () => {
    const rt = await pool.start({ FAAS_HANDLER: 'callback.handler' });
    const r = await request(rt.port);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'cb ok');
  });
});

describe('node runtime start failures exit 1 with a clear log line', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['missing module', { FAAS_CODE_DIR: path.join(FUNCTIONS_DIR, 'hello'), FAAS_HANDLER: 'nope.handler' }, /handler module "nope" not found/],
    ['export not a function', { FAAS_HANDLER: 'notfn.handler' }, /no function export "handler" \(found number\)/],
    ['bad function name', { FAAS_FUNCTION: 'Bad_Name' }, /FAAS_FUNCTION="Bad_Name"/],
    ['bad FAAS_MAX_BODY_BYTES', { FAAS_MAX_BODY_BYTES: '1e9' }, /FAAS_MAX_BODY_BYTES="1e9" must be a whole number/],
  ];
  for (const [name, env, re] of cases) {
    test(name, async () => {
      const rt = await pool.start(env, false);
      assert.equal(await rt.exited, 1);
      const line = rt.logs().find((l) => l.level === 'error');
      assert.ok(line, 'an error line is logged');
      assert.match(String(line.message), re);
    });
  }
});
