/** Contract checks over time: concurrency limit, timeout, SIGTERM drain, Lambda style, start failures. */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, describe, test } from 'node:test';
import { assertErrorJson, json, runtimePool } from './checks';
import { type RunningRuntime, type RuntimeUnderTest, finalResponse, rawExchange, request, waitFor } from './harness';

const stats = async (r: RunningRuntime): Promise<Record<string, unknown>> => json((await request(r.port, { path: '/_faas/stats' })).body);

export function lifecycleSuite(rt: RuntimeUnderTest): void {
  describe(`runtime contract (${rt.name}): lifecycle`, () => {
    const pool = runtimePool(rt);
    after(() => pool.killAll());
    const fn = 'conf-fn';

    test('above FAAS_CONCURRENCY: 429 concurrency_limit (with Expect: no 100); stats count it', async () => {
      const r = await pool.start({ FAAS_HANDLER: 'slow.handler', FAAS_CONCURRENCY: '1' });
      const slow = request(r.port, { path: '/?ms=1500' });
      await waitFor('one request in flight', async () => (await stats(r)).inflight === 1);
      assert.equal((await stats(r)).idleMs, 0);
      assertErrorJson(await request(r.port, { path: '/?ms=1', headers: { 'x-request-id': 'busy-1' } }), 'concurrency_limit', { fn, requestId: 'busy-1' });
      const raw = await rawExchange(r.port, 'POST /?ms=1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n');
      assert.doesNotMatch(raw, /100 Continue/);
      assert.equal(finalResponse(raw).status, 429);
      const done = await slow;
      assert.equal(done.status, 200);
      assert.equal(done.body.toString(), 'slept 1500');
      await waitFor('the in-flight count back to 0', async () => (await stats(r)).inflight === 0);
      const s = await stats(r);
      assert.equal(s.served, 1);
      assert.equal(s.rejected, 2);
      assert.equal(s.concurrency, 1);
    });

    test('past FAAS_TIMEOUT_MS: 504 function_timeout', async () => {
      const r = await pool.start({ FAAS_HANDLER: 'slow.handler', FAAS_TIMEOUT_MS: '100' });
      assertErrorJson(await request(r.port, { path: '/?ms=5000', headers: { 'x-request-id': 'late-1' } }), 'function_timeout', { fn, requestId: 'late-1' });
    });

    test('SIGTERM: readiness 503, in-flight request finishes, new connections refused, exit 0', async () => {
      const r = await pool.start({ FAAS_HANDLER: 'slow.handler', FAAS_DRAIN_TIMEOUT_MS: '10000' });
      const slow = request(r.port, { path: '/?ms=1500' });
      await waitFor('one request in flight', async () => (await stats(r)).inflight === 1);
      // A connection opened before the signal shows readiness turning 503 (or is closed at once).
      const kept = net.connect({ host: '127.0.0.1', port: r.port });
      let readyAfter = '';
      const keptClosed = new Promise<void>((resolve) => {
        kept.on('data', (c: Buffer) => (readyAfter += c.toString()));
        kept.on('close', () => resolve());
        kept.on('error', () => resolve());
      });
      await new Promise((res) => kept.once('connect', res));
      r.proc.kill('SIGTERM');
      await waitFor('new connections refused', async () => {
        try {
          await request(r.port, { path: '/_faas/ready' });
          return false;
        } catch (err) {
          return /ECONNREFUSED/.test(String(err));
        }
      });
      if (kept.writable) kept.write('GET /_faas/ready HTTP/1.1\r\nHost: x\r\n\r\n');
      await keptClosed;
      if (readyAfter !== '') assert.match(readyAfter, /^HTTP\/1\.1 503/);
      const done = await slow;
      assert.equal(done.status, 200);
      assert.equal(done.body.toString(), 'slept 1500');
      assert.equal(await r.exited, 0);
      const events = r.logs().map((l) => l.event);
      assert.ok(events.includes('draining') && events.includes('drained'), JSON.stringify(events));
    });

    test('Lambda style over HTTP: an API Gateway v2 event and the Lambda context', async () => {
      const r = await pool.start({ FAAS_HANDLER: 'lambda.handler', FAAS_HANDLER_STYLE: 'lambda', FAAS_VERSION: '7', FAAS_MEMORY_MB: '128' });
      const res = await request(r.port, { method: 'POST', path: '/p/q?a=1&a=2&b=x', headers: { 'x-request-id': 'lam-1', 'content-type': 'application/json' }, body: '{"k":1}' });
      assert.equal(res.status, 200);
      const b = json(res.body);
      const e = b.event as Record<string, unknown>;
      assert.equal(e.version, '2.0');
      assert.equal(e.rawPath, '/p/q');
      assert.equal(e.rawQueryString, 'a=1&a=2&b=x');
      assert.deepEqual(e.queryStringParameters, { a: '1,2', b: 'x' });
      assert.equal(e.body, '{"k":1}');
      assert.equal(e.isBase64Encoded, false);
      const http = (e.requestContext as Record<string, Record<string, unknown>>).http as Record<string, unknown>;
      assert.equal(http.method, 'POST');
      assert.equal((e.requestContext as Record<string, unknown>).requestId, 'lam-1');
      const c = b.context as Record<string, unknown>;
      assert.deepEqual({ ...c, remaining: undefined }, { functionName: fn, functionVersion: '7', awsRequestId: 'lam-1', memoryLimitInMB: '128', remaining: undefined });
      const bin = json((await request(r.port, { method: 'POST', body: Buffer.from([0, 255]), headers: { 'content-type': 'application/octet-stream' } })).body);
      assert.equal((bin.event as Record<string, unknown>).isBase64Encoded, true);
      assert.equal((bin.event as Record<string, unknown>).body, 'AP8=');
    });

    test('Lambda style on the invoke path: the JSON event in, the result as JSON out, errors in Lambda shape', async () => {
      const r = await pool.start({ FAAS_HANDLER: 'lambda.handler', FAAS_HANDLER_STYLE: 'lambda' });
      const path = '/2015-03-31/functions/function/invocations';
      const ok = await request(r.port, { method: 'POST', path, body: '{"x":1,"y":2}' });
      assert.equal(ok.status, 200);
      assert.deepEqual(json(ok.body).event, { x: 1, y: 2 });
      const failed = await request(r.port, { method: 'POST', path, body: '{"fail":true}' });
      assert.equal(failed.status, 200);
      assert.equal(failed.headers['x-amz-function-error'], 'Unhandled');
      assert.deepEqual(json(failed.body), { errorMessage: 'asked to fail', errorType: 'TypeError' });
      assertErrorJson(await request(r.port, { method: 'POST', path, body: '{not json' }), 'invalid_request', { fn });
    });

    const failures: [string, Record<string, string>, string, RegExp][] = [
      ['a missing handler module', { FAAS_HANDLER: 'nope.handler' }, 'handler_load_failed', /nope/],
      ['a bad FAAS_CONCURRENCY', { FAAS_CONCURRENCY: 'many' }, 'invalid_config', /FAAS_CONCURRENCY/],
      ['a bad FAAS_HANDLER_STYLE', { FAAS_HANDLER_STYLE: 'soap' }, 'invalid_config', /FAAS_HANDLER_STYLE/],
      ['a bad FAAS_HANDLER', { FAAS_HANDLER: 'index' }, 'invalid_config', /FAAS_HANDLER/],
    ];
    for (const [name, env, event, re] of failures) {
      test(`start failure, ${name}: exit 1 with a JSON log line`, async () => {
        const r = await pool.start(env, false);
        assert.equal(await r.exited, 1);
        const line = r.logs().find((l) => l.level === 'error');
        assert.ok(line, `an error line is logged: ${JSON.stringify(r.logs())}`);
        assert.equal(line.event, event);
        assert.match(String(line.message), re);
      });
    }
  });
}
