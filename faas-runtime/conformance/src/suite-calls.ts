/**
 * Functions calling functions (contracts/src/call-api.ts): the runtime gives the handler a
 * call client bound to the request (id, remaining deadline, depth + 1), both on the context and
 * as the language's module, and clamps its own deadline to the caller's. FAAS_CALL_URL points at
 * a local HTTP server playing the gateway.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CALL_ENV, CALL_HEADERS, clientError } from '@faas/contracts';
import { assertErrorJson, json, runtimePool } from './checks';
import { type RuntimeUnderTest, request } from './harness';

interface Seen { url: string; headers: http.IncomingHttpHeaders; body: string }

export function callsSuite(rt: RuntimeUnderTest): void {
  describe(`runtime contract (${rt.name}): calls to other functions`, () => {
    const pool = runtimePool(rt);
    const seen: Seen[] = [];
    let gateway: http.Server;
    let url = '';

    before(async () => {
      gateway = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
          if (req.url === '/deep') {
            const e = clientError('call_depth_exceeded', 'too deep', { fn: 'deep', requestId: String(req.headers[CALL_HEADERS.requestId]) });
            res.writeHead(e.status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(e.body));
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ got: JSON.parse(Buffer.concat(chunks).toString()) as unknown }));
        });
      });
      await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', () => r()));
      url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    });
    after(async () => {
      pool.killAll();
      gateway.closeAllConnections();
      await new Promise<void>((r) => gateway.close(() => r()));
    });

    for (const via of ['context', 'module']) {
      test(`a call via ${via} carries the request id, depth + 1 and the remaining deadline`, async () => {
        const r = await pool.start({ FAAS_HANDLER: 'caller.handler', FAAS_TIMEOUT_MS: '5000', [CALL_ENV.url]: url });
        const rid = `rid-${rt.name}-${via}`;
        const res = await request(r.port, { path: `/?via=${via}`, headers: { [CALL_HEADERS.requestId]: rid, [CALL_HEADERS.depth]: '2', [CALL_HEADERS.deadlineMs]: '3000' } });
        assert.equal(res.status, 200, res.body.toString());
        assert.deepEqual(json(res.body), { answer: { got: { from: 'caller' } }, depth: 2 });
        const s = seen.find((x) => x.headers[CALL_HEADERS.requestId] === rid);
        assert.ok(s, 'the call reached the gateway');
        assert.equal(s.url, '/target');
        assert.equal(s.headers[CALL_HEADERS.depth], '3');
        assert.match(String(s.headers['content-type']), /^application\/json/);
        const left = Number(s.headers[CALL_HEADERS.deadlineMs]);
        assert.ok(left > 0 && left <= 3000, `deadline ${String(s.headers[CALL_HEADERS.deadlineMs])} within the caller's 3000 ms`);
      });
    }

    test('a platform error JSON from the entry is a typed error with its code and status', async () => {
      const r = await pool.start({ FAAS_HANDLER: 'caller.handler', [CALL_ENV.url]: url });
      const res = await request(r.port, { path: '/?fn=deep', headers: { [CALL_HEADERS.requestId]: 'rid-deep' } });
      assert.equal(res.status, 200, res.body.toString());
      assert.deepEqual(json(res.body), { error: { code: 'call_depth_exceeded', status: 508, requestId: 'rid-deep' }, depth: 0 });
    });

    test('an unreachable entry is platform_unavailable', async () => {
      const r = await pool.start({ FAAS_HANDLER: 'caller.handler', [CALL_ENV.url]: 'unix:/nonexistent/faas-call.sock' });
      const res = await request(r.port, { path: '/', headers: { [CALL_HEADERS.requestId]: 'rid-gone' } });
      assert.equal((json(res.body).error as Record<string, unknown>).code, 'platform_unavailable');
    });

    test("the caller's shorter deadline ends the request: 504 function_timeout", async () => {
      const r = await pool.start({ FAAS_HANDLER: 'slow.handler', FAAS_TIMEOUT_MS: '10000' });
      const res = await request(r.port, { path: '/?ms=5000', headers: { [CALL_HEADERS.requestId]: 'rid-short', [CALL_HEADERS.deadlineMs]: '100' } });
      assertErrorJson(res, 'function_timeout', { fn: 'conf-fn', requestId: 'rid-short' });
    });
  });
}
