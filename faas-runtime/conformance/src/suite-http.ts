/** Contract checks on single requests: readiness, stats, events, bodies, 100 Continue, error JSON. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { DEFAULT_MAX_BODY_BYTES } from '@faas/contracts';
import { assertErrorJson, json, runtimePool } from './checks';
import { type RuntimeUnderTest, finalResponse, rawExchange, request, waitFor } from './harness';

export function httpSuite(rt: RuntimeUnderTest): void {
  describe(`runtime contract (${rt.name}): requests`, () => {
    const pool = runtimePool(rt);
    after(() => pool.killAll());
    const fn = 'conf-fn';

    test('readiness and stats', async () => {
      const r = await pool.start({ FAAS_VERSION: '1.10', FAAS_HANDLER: 'echo.handler' });
      const ready = await request(r.port, { path: '/_faas/ready' });
      assert.equal(ready.status, 200);
      assert.equal(json(ready.body).ready, true);
      await request(r.port, { method: 'POST', body: 'x' });
      const s = json((await request(r.port, { path: '/_faas/stats' })).body);
      assert.deepEqual(Object.keys(s).sort(), ['concurrency', 'draining', 'function', 'idleMs', 'inflight', 'ready', 'rejected', 'served', 'version']);
      assert.equal(s.function, fn);
      assert.equal(s.version, '1.10');
      assert.equal(s.served, 1);
      assert.equal(s.inflight, 0);
      assert.equal(s.rejected, 0);
      assert.equal(s.concurrency, 8);
      assert.equal(s.ready, true);
      assert.equal(s.draining, false);
      assert.equal(typeof s.idleMs, 'number');
    });

    test('HTTP style: event and context carry the request; expect is not shown', async () => {
      const r = await pool.start({ FAAS_VERSION: '3', FAAS_HANDLER: 'probe.handler', FAAS_TIMEOUT_MS: '5000', FAAS_MEMORY_MB: '256' });
      const res = await request(r.port, { method: 'PUT', path: '/a/b?x=1&x=2&y=z', headers: { 'x-request-id': 'abc', 'x-custom': 'v' }, body: 'hello' });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.equal(res.headers['x-request-id'], 'abc');
      const b = json(res.body);
      assert.equal(b.method, 'PUT');
      assert.equal(b.path, '/a/b');
      assert.equal(b.rawQuery, 'x=1&x=2&y=z');
      assert.deepEqual(b.query, { x: '1', y: 'z' });
      assert.equal((b.headers as Record<string, string>)['x-custom'], 'v');
      assert.equal(b.bodyLength, 5);
      assert.equal(b.requestId, 'abc');
      const c = b.context as Record<string, unknown>;
      assert.deepEqual({ ...c, remaining: undefined }, { functionName: fn, functionVersion: '3', awsRequestId: 'abc', memoryLimitInMB: '256', remaining: undefined });
      assert.ok(typeof c.remaining === 'number' && c.remaining > 0 && c.remaining <= 5000);
      const gen = await request(r.port, { path: '/' });
      assert.match(String(gen.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    });

    test('a 1 MiB binary body arrives byte for byte', async () => {
      const r = await pool.start({ FAAS_HANDLER: 'echo.handler' });
      const payload = randomBytes(1024 * 1024);
      const res = await request(r.port, { method: 'POST', body: payload, headers: { 'content-type': 'application/x-test' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/x-test');
      assert.ok(res.body.equals(payload));
      const chunked = await request(r.port, { method: 'POST', chunks: [payload.subarray(0, 1000), payload.subarray(1000, 5000)] });
      assert.ok(chunked.body.equals(payload.subarray(0, 5000)));
    });

    test('body limit: default 6 MiB, refused from Content-Length before the body is read', async () => {
      const r = await pool.start({ FAAS_HANDLER: 'echo.handler' });
      // Only the head is sent: the 413 cannot depend on reading the body.
      const raw = await rawExchange(r.port, `POST / HTTP/1.1\r\nHost: x\r\nx-request-id: big-1\r\nContent-Length: ${DEFAULT_MAX_BODY_BYTES + 1}\r\n\r\n`);
      const f = finalResponse(raw);
      assertErrorJson({ status: f.status, headers: f.headers, body: f.body }, 'body_too_large', { fn, requestId: 'big-1' });
      const ok = await request(r.port, { method: 'POST', body: Buffer.alloc(DEFAULT_MAX_BODY_BYTES, 7) });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.length, DEFAULT_MAX_BODY_BYTES);
    });

    test('body limit: a chunked body is cut at the limit with 413; the instance keeps serving', async () => {
      const r = await pool.start({ FAAS_HANDLER: 'echo.handler', FAAS_MAX_BODY_BYTES: '1000' });
      const raw = await rawExchange(r.port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nx-request-id: ch-1\r\n\r\n', { body: Buffer.from(`7d0\r\n${'a'.repeat(2000)}\r\n0\r\n\r\n`) });
      const f = finalResponse(raw);
      assertErrorJson({ status: f.status, headers: f.headers, body: f.body }, 'body_too_large', { fn, requestId: 'ch-1' });
      const exact = await request(r.port, { method: 'POST', body: Buffer.alloc(1000, 2) });
      assert.equal(exact.status, 200);
      assert.equal(exact.body.length, 1000);
    });

    test("memory guard: a body that would not fit under the cgroup's memory limit gets 413 (v2 and v1)", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-conf-cgroup-'));
      after(() => fs.rmSync(dir, { recursive: true, force: true }));
      const MiB = 1024 * 1024;
      fs.writeFileSync(path.join(dir, 'memory.max'), `${64 * MiB}\n`);
      fs.writeFileSync(path.join(dir, 'memory.current'), `${50 * MiB}\n`);
      const r = await pool.start({ FAAS_HANDLER: 'echo.handler', FAAS_CGROUP_DIR: dir });
      const no = await request(r.port, { method: 'POST', body: Buffer.alloc(2 * MiB), headers: { 'x-request-id': 'mem-1' } });
      assertErrorJson(no, 'body_too_large', { fn, requestId: 'mem-1' });
      fs.writeFileSync(path.join(dir, 'memory.current'), `${10 * MiB}\n`);
      const yes = await request(r.port, { method: 'POST', body: Buffer.alloc(2 * MiB) });
      assert.equal(yes.status, 200);
      const probe = await pool.start({ FAAS_HANDLER: 'probe.handler', FAAS_CGROUP_DIR: dir });
      assert.equal((json((await request(probe.port)).body).context as Record<string, unknown>).memoryLimitInMB, '64');
      // cgroup v1 (no memory.max): memory/memory.limit_in_bytes and memory/memory.usage_in_bytes.
      const v1 = path.join(dir, 'v1');
      fs.mkdirSync(path.join(v1, 'memory'), { recursive: true });
      fs.writeFileSync(path.join(v1, 'memory', 'memory.limit_in_bytes'), `${64 * MiB}\n`);
      fs.writeFileSync(path.join(v1, 'memory', 'memory.usage_in_bytes'), `${50 * MiB}\n`);
      const old = await pool.start({ FAAS_HANDLER: 'echo.handler', FAAS_CGROUP_DIR: v1 });
      assertErrorJson(await request(old.port, { method: 'POST', body: Buffer.alloc(2 * MiB), headers: { 'x-request-id': 'mem-2' } }), 'body_too_large', { fn, requestId: 'mem-2' });
    });

    test('Expect: 100-continue gets 100 Continue before the final response; the body arrives intact', async () => {
      const r = await pool.start({ FAAS_HANDLER: 'echo.handler' });
      const body = Buffer.from('body sent after the 100');
      const raw = await rawExchange(r.port, `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`, { body, bodyAfter: /^HTTP\/1\.1 100 Continue\r\n\r\n/ });
      assert.match(raw, /^HTTP\/1\.1 100 Continue\r\n\r\n/);
      const f = finalResponse(raw);
      assert.equal(f.status, 200);
      assert.equal(f.body, body.toString());
      const probe = await pool.start({ FAAS_HANDLER: 'probe.handler' });
      const p = finalResponse(await rawExchange(probe.port, 'POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n', { body: Buffer.from('ok'), bodyAfter: /100 Continue/ }));
      assert.equal((json(p.body).headers as Record<string, string>).expect, undefined);
      assert.equal(json(p.body).bodyLength, 2);
    });

    test('Expect: 100-continue over the body limit: 413 without a 100', async () => {
      const r = await pool.start({ FAAS_HANDLER: 'echo.handler', FAAS_MAX_BODY_BYTES: '10' });
      const raw = await rawExchange(r.port, 'POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n');
      assert.doesNotMatch(raw, /100 Continue/);
      const f = finalResponse(raw);
      const b = assertErrorJson({ status: f.status, headers: f.headers, body: f.body }, 'body_too_large', { fn });
      assert.equal(b.requestId, f.headers['x-request-id'], 'one generated request id, in the header and the body');
    });

    test('a throwing handler: 500 handler_error JSON, the stack only in the logs', async () => {
      const r = await pool.start({ FAAS_HANDLER: 'boom.handler' });
      const res = await request(r.port, { headers: { 'x-request-id': 'err-1' } });
      const b = assertErrorJson(res, 'handler_error', { fn, requestId: 'err-1' });
      assert.equal(b.message, 'boom from handler');
      assert.doesNotMatch(res.body.toString(), /boom\.(js|py)/);
      await waitFor('the handler_error log line', async () => r.logs().some((l) => l.event === 'handler_error'));
      const line = r.logs().find((l) => l.event === 'handler_error') as Record<string, unknown>;
      assert.equal(line.requestId, 'err-1');
      assert.equal(line.fn, fn);
      assert.match(JSON.stringify(line), /boom\.(js|py)/);
    });

    test('a malformed request gets 400 invalid_request JSON', async () => {
      const r = await pool.start({ FAAS_HANDLER: 'echo.handler' });
      const f = finalResponse(await rawExchange(r.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'));
      assertErrorJson({ status: f.status, headers: f.headers, body: f.body }, 'invalid_request', { fn });
    });
  });
}
