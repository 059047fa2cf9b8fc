import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { FUNCTIONS_DIR, type Runtime, makeTestFunctions, request, spawnRuntime, waitReady } from './harness';

const fns = makeTestFunctions();
const running: Runtime[] = [];
after(() => {
  for (const r of running) r.kill();
  fns.cleanup();
});

async function start(env: Record<string, string>): Promise<Runtime> {
  const rt = await spawnRuntime(env);
  running.push(rt);
  await waitReady(rt);
  return rt;
}

const json = (b: Buffer): Record<string, unknown> => JSON.parse(b.toString()) as Record<string, unknown>;

describe('runtime with the hello function', () => {
  test('ready, greets, echoes the request id', async () => {
    const rt = await start({ FAAS_FUNCTION: 'hello', FAAS_VERSION: '1.10', FAAS_CODE_DIR: path.join(FUNCTIONS_DIR, 'hello') });
    const ready = await request(rt.port, { path: '/_faas/ready' });
    assert.equal(ready.status, 200);
    const r = await request(rt.port, { path: '/?name=ada', headers: { 'x-request-id': 'req-123' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'Hello, ada!\n');
    assert.equal(r.headers['x-request-id'], 'req-123');
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    const r2 = await request(rt.port, { path: '/' });
    assert.equal(r2.body.toString(), 'Hello, world!\n');
    assert.match(String(r2.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const stats = json((await request(rt.port, { path: '/_faas/stats' })).body);
    assert.equal(stats.function, 'hello');
    assert.equal(stats.version, '1.10');
    assert.equal(stats.served, 2);
    assert.equal(stats.inflight, 0);
    assert.equal(stats.ready, true);
    assert.equal(stats.draining, false);
  });
});

describe('runtime with the echo function', () => {
  test('echoes 1 MiB byte for byte', async () => {
    const rt = await start({ FAAS_FUNCTION: 'echo', FAAS_CODE_DIR: path.join(FUNCTIONS_DIR, 'echo') });
    const payload = randomBytes(1024 * 1024);
    const r = await request(rt.port, { method: 'POST', path: '/', body: payload, headers: { 'content-type': 'application/x-test' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/x-test');
    assert.equal(r.body.length, payload.length);
    assert.ok(r.body.equals(payload));
  });

  test('a body over the limit gets 413', async () => {
    const rt = await start({ FAAS_FUNCTION: 'echo', FAAS_CODE_DIR: path.join(FUNCTIONS_DIR, 'echo'), FAAS_MAX_BODY_BYTES: '1000' });
    const r = await request(rt.port, { method: 'POST', body: Buffer.alloc(5000, 1) });
    assert.equal(r.status, 413);
    assert.equal(json(r.body).error, 'body_too_large');
    const ok = await request(rt.port, { method: 'POST', body: Buffer.alloc(1000, 2) });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.length, 1000);
  });
});

describe('runtime with test handlers', () => {
  test('event and context carry the request', async () => {
    const rt = await start({ FAAS_FUNCTION: 'probe', FAAS_VERSION: '3', FAAS_CODE_DIR: fns.dir, FAAS_HANDLER: 'json.handler', FAAS_TIMEOUT_MS: '5000' });
    const r = await request(rt.port, { method: 'PUT', path: '/a/b?x=1&x=2&y=z', headers: { 'x-request-id': 'abc' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    const b = json(r.body);
    assert.deepEqual(b.query, { x: '1', y: 'z' });
    assert.equal(b.rawQuery, 'x=1&x=2&y=z');
    assert.equal(b.path, '/a/b');
    assert.equal(b.method, 'PUT');
    assert.equal(b.fn, 'probe');
    assert.equal(b.version, '3');
    assert.equal(b.requestId, 'abc');
    assert.ok(typeof b.remaining === 'number' && b.remaining > 4000 && b.remaining <= 5000);
  });

  test('callback-style handlers work', async () => {
    const rt = await start({ FAAS_CODE_DIR: fns.dir, FAAS_HANDLER: 'callback.handler' });
    const r = await request(rt.port);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'cb ok');
  });

  test('a throwing handler gives 500 JSON and a log line with the stack', async () => {
    const rt = await start({ FAAS_CODE_DIR: fns.dir, FAAS_HANDLER: 'boom.handler' });
    const r = await request(rt.port, { headers: { 'x-request-id': 'err-1' } });
    assert.equal(r.status, 500);
    assert.deepEqual(json(r.body), { error: 'function_error', message: 'boom from handler', requestId: 'err-1' });
    // The log line may arrive just after the response.
    await new Promise((res) => setTimeout(res, 50));
    const line = rt.logs().find((l) => l.event === 'handler_error');
    assert.ok(line, 'handler_error logged');
    assert.equal(line.requestId, 'err-1');
    assert.match(String((line.error as { stack: string }).stack), /boom\.js/);
  });

  test('a handler past its deadline gives 504', async () => {
    const rt = await start({ FAAS_CODE_DIR: fns.dir, FAAS_HANDLER: 'slow.handler', FAAS_TIMEOUT_MS: '150' });
    const r = await request(rt.port, { path: '/?ms=2000' });
    assert.equal(r.status, 504);
    assert.equal(json(r.body).error, 'function_timeout');
  });

  test('above FAAS_CONCURRENCY requests get 429; stats count them; idleMs', async () => {
    const rt = await start({ FAAS_CODE_DIR: fns.dir, FAAS_HANDLER: 'slow.handler', FAAS_CONCURRENCY: '1' });
    const idle0 = json((await request(rt.port, { path: '/_faas/stats' })).body);
    assert.equal(idle0.served, 0);
    const slow = request(rt.port, { path: '/?ms=400' });
    await new Promise((res) => setTimeout(res, 100));
    const during = json((await request(rt.port, { path: '/_faas/stats' })).body);
    assert.equal(during.inflight, 1);
    assert.equal(during.idleMs, 0);
    const rejected = await request(rt.port, { path: '/?ms=1' });
    assert.equal(rejected.status, 429);
    assert.equal(json(rejected.body).error, 'concurrency_limit');
    const done = await slow;
    assert.equal(done.status, 200);
    assert.equal(done.body.toString(), 'slept 400');
    await new Promise((res) => setTimeout(res, 120));
    const s = json((await request(rt.port, { path: '/_faas/stats' })).body);
    assert.equal(s.served, 1);
    assert.equal(s.rejected, 1);
    assert.equal(s.inflight, 0);
    assert.equal(s.concurrency, 1);
    assert.ok(typeof s.idleMs === 'number' && s.idleMs >= 100, `idleMs ${String(s.idleMs)}`);
  });

  test('SIGTERM: ready turns 503, in-flight request finishes, new connections refused, exit 0', async () => {
    const rt = await start({ FAAS_CODE_DIR: fns.dir, FAAS_HANDLER: 'slow.handler', FAAS_DRAIN_TIMEOUT_MS: '5000' });
    const slow = request(rt.port, { path: '/?ms=700' });
    await new Promise((res) => setTimeout(res, 100));
    // Hold a keep-alive connection open to see readiness flip before the listener closes.
    const kept = net.connect({ host: '127.0.0.1', port: rt.port });
    await new Promise((res) => kept.once('connect', res));
    rt.proc.kill('SIGTERM');
    await new Promise((res) => setTimeout(res, 100));
    const readyAfter = await new Promise<string>((resolve) => {
      let data = '';
      kept.on('data', (c: Buffer) => (data += c.toString()));
      kept.on('close', () => resolve(data));
      kept.on('error', () => resolve(data));
      kept.write('GET /_faas/ready HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    // Either the idle connection was closed at once, or it answered 503 and closed.
    if (readyAfter !== '') assert.match(readyAfter, /^HTTP\/1\.1 503/);
    await assert.rejects(request(rt.port, { path: '/?ms=1' }), /ECONNREFUSED|ECONNRESET|socket hang up/);
    const done = await slow;
    assert.equal(done.status, 200);
    assert.equal(done.body.toString(), 'slept 700');
    assert.equal(await rt.exited, 0);
    const events = rt.logs().map((l) => l.event);
    assert.ok(events.includes('draining') && events.includes('drained'));
  });
});

describe('runtime start failures exit 1 with a clear log line', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['missing module', { FAAS_CODE_DIR: path.join(FUNCTIONS_DIR, 'hello'), FAAS_HANDLER: 'nope.handler' }, /handler module "nope" not found/],
    ['export not a function', { FAAS_CODE_DIR: '', FAAS_HANDLER: 'notfn.handler' }, /no function export "handler" \(found number\)/],
    ['bad concurrency', { FAAS_CONCURRENCY: 'many' }, /FAAS_CONCURRENCY="many" must be a whole number/],
    ['bad function name', { FAAS_FUNCTION: 'Bad_Name' }, /FAAS_FUNCTION="Bad_Name"/],
    ['bad handler spec', { FAAS_HANDLER: 'index' }, /FAAS_HANDLER="index" must look like/],
  ];
  for (const [name, env, re] of cases) {
    test(name, async () => {
      const e = { ...env };
      if (e.FAAS_CODE_DIR === '') e.FAAS_CODE_DIR = fns.dir;
      const rt = await spawnRuntime(e);
      running.push(rt);
      assert.equal(await rt.exited, 1);
      const line = rt.logs().find((l) => l.level === 'error');
      assert.ok(line, 'an error line is logged');
      assert.match(String(line.message), re);
    });
  }
});
