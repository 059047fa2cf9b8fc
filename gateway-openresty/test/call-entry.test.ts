/**
 * The gateway as the entry of call() (contracts/src/call-api.ts): its unix socket (the native
 * stack mounts its directory into function containers) serves like the TCP port, cold functions
 * included; the call depth is bounded before any wake; the Node client's headers arrive.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CallError, call } from '@faas/call';
import { CALL_HEADERS, CALL_MAX_DEPTH, CLIENT_ERRORS, HEADERS, unixCallUrl } from '@faas/contracts';
import type { Gateway } from '../src/index';
import { type Backends, assertClientError, startBackends, startHttpServer, startPrimedGateway, stopBackends } from './harness';

describe('gateway call entry: unix socket, depth limit, propagated headers', () => {
  let b: Backends;
  let router: Awaited<ReturnType<typeof startHttpServer>>;
  let gw: Gateway;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-call-gw-'));
  const socket = path.join(dir, 'call', 'gateway.sock');
  const url = unixCallUrl(socket);

  before(async () => {
    b = await startBackends({ warm: { state: 'warm' }, cold: { startMs: 200 } });
    // The router answers with the call headers it received, as JSON.
    router = await startHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({
          url: req.url, body: Buffer.concat(chunks).toString(),
          requestId: req.headers[HEADERS.requestId], depth: req.headers[CALL_HEADERS.depth], deadlineMs: req.headers[CALL_HEADERS.deadlineMs],
        }));
      });
    });
    gw = await startPrimedGateway(b, { workers: 1, routerPort: router.port, wakeTimeoutMs: 3000, callSocket: socket, onLog: () => undefined });
  });

  after(async () => {
    await gw?.stop();
    await router?.close();
    await stopBackends(b);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the socket is open to uid 10001 (mode 0666) and serves a call with id, depth and deadline', async () => {
    assert.equal(fs.statSync(socket).mode & 0o777, 0o666);
    const got = await call<Record<string, unknown>>('warm', { x: 1 }, { url, requestId: 'rid-call-1', depth: 2, deadline: Date.now() + 5000 });
    assert.equal(got.url, '/warm');
    assert.equal(got.body, '{"x":1}');
    assert.equal(got.requestId, 'rid-call-1');
    assert.equal(got.depth, '3');
    const left = Number(got.deadlineMs);
    assert.ok(left > 0 && left <= 5000, `deadline header ${String(got.deadlineMs)}`);
  });

  test('a cold function is held and woken through the socket like through the port', async () => {
    const got = await call<Record<string, unknown>>('cold', undefined, { url });
    assert.equal(got.url, '/cold');
    assert.equal(got.depth, '1');
  });

  test(`depth above ${CALL_MAX_DEPTH}: 508 call_depth_exceeded, as JSON and as a typed CallError`, async () => {
    const res = await fetch(`http://127.0.0.1:${gw.port}/warm`, { method: 'POST', headers: { [CALL_HEADERS.depth]: String(CALL_MAX_DEPTH + 1) } });
    const body = assertClientError(res.status, res.headers.get('content-type'), await res.text(), 'call_depth_exceeded');
    assert.equal(body.fn, 'warm');
    assert.equal(CLIENT_ERRORS.call_depth_exceeded.status, 508);
    // At the limit itself the call passes.
    await call('warm', undefined, { url, depth: CALL_MAX_DEPTH - 1 });
    await assert.rejects(call('warm', undefined, { url, depth: CALL_MAX_DEPTH, requestId: 'rid-deep' }), (err: unknown) => {
      assert.ok(err instanceof CallError);
      assert.equal(err.code, 'call_depth_exceeded');
      assert.equal(err.status, 508);
      assert.equal(err.requestId, 'rid-deep');
      return true;
    });
  });

  test('a malformed depth header is 400 invalid_request', async () => {
    const res = await fetch(`http://127.0.0.1:${gw.port}/warm`, { headers: { [CALL_HEADERS.depth]: 'deep' } });
    assertClientError(res.status, res.headers.get('content-type'), await res.text(), 'invalid_request');
  });

  test('an unknown function through the socket is a CallError unknown_function', async () => {
    await assert.rejects(call('nosuch', {}, { url }), (err: unknown) => err instanceof CallError && err.code === 'unknown_function' && err.status === 404);
  });
});
