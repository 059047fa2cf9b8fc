/**
 * Every answer nginx itself makes is JSON (contracts/client-errors.ts), through real nginx: 400,
 * 413 (Content-Length and chunked, both before any wake), 414, 431 (nginx's 494), 500, 502, 504.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HEADERS } from '@faas/contracts';
import type { Gateway } from '../src/index';
import { type Backends, assertClientError, rawRequest, startBackends, startHttpServer, startPrimedGateway, stopBackends } from './harness';

// Above client_body_buffer_size (1 MiB), so a body near the limit goes through a temp file (the 500 test).
const MAX_BODY = 2 * 1024 * 1024;
let b: Backends;
let gw: Gateway;
let router: Awaited<ReturnType<typeof startHttpServer>>;

before(async () => {
  b = await startBackends({ warm: { state: 'warm' }, hang: { state: 'warm' }, cold: { startMs: 100 } });
  router = await startHttpServer((req, res) => {
    if (req.url?.startsWith('/hang')) return; // never answers: the gateway's outer timeout fires
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  gw = await startPrimedGateway(b, { workers: 1, routerPort: router.port, routerTimeoutS: 1, maxBodyBytes: MAX_BODY, onLog: () => undefined });
});

after(async () => {
  await gw?.stop();
  await router?.close();
  await stopBackends(b);
});

const head = (requestLine: string, headers: string[] = []) => `${requestLine}\r\n${['Host: 127.0.0.1', 'Connection: close', ...headers].join('\r\n')}\r\n\r\n`;

async function expectRaw(req: string, code: string, body = '') {
  const r = await rawRequest(gw.port, req, body);
  return assertClientError(r.status, r.headers['content-type'] as string | undefined, r.body, code);
}

test('400 malformed request: invalid_request JSON', async () => {
  await expectRaw(head('GET /warm HTTP/1.1', ['Host: second.example']), 'invalid_request');
  await expectRaw('BAD\r\n\r\n', 'invalid_request');
});

test('414 request line too long: uri_too_long JSON', async () => {
  await expectRaw(head(`GET /warm?q=${'a'.repeat(10_000)} HTTP/1.1`), 'uri_too_long');
});

test('431 header too large (nginx 494): headers_too_large JSON', async () => {
  await expectRaw(head('GET /warm HTTP/1.1', [`x-big: ${'b'.repeat(10_000)}`]), 'headers_too_large');
});

test('413 by Content-Length: body_too_large JSON naming the function, before any wake', async () => {
  const body = await expectRaw(head('POST /cold HTTP/1.1', [`Content-Length: ${MAX_BODY + 1}`]), 'body_too_large', 'x'.repeat(MAX_BODY + 1));
  assert.equal(body.fn, 'cold');
  assert.match(body.message, new RegExp(String(MAX_BODY)));
  assert.equal(b.orch.wakesFor('cold'), 0, 'no wake for a refused body');
});

test('413 chunked: body_too_large JSON, read before the wake', async () => {
  const chunk = 'y'.repeat(MAX_BODY + 1);
  const body = await expectRaw(head('POST /cold HTTP/1.1', ['Transfer-Encoding: chunked']), 'body_too_large', `${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`);
  assert.equal(body.fn, 'cold');
  assert.equal(b.orch.wakesFor('cold'), 0, 'no wake for a refused body');
  assert.equal(b.orch.starts.get('cold'), undefined);
});

test('a body at the limit passes', async () => {
  const res = await fetch(`http://127.0.0.1:${gw.port}/warm`, { method: 'POST', body: 'z'.repeat(MAX_BODY) });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'ok');
});

test('500 (nginx cannot buffer the body to its temp file): internal_error JSON with the request id sent', async () => {
  const dir = path.join(gw.prefix, 'tmp', 'body');
  fs.rmSync(dir, { recursive: true, force: true });
  try {
    const res = await fetch(`http://127.0.0.1:${gw.port}/warm`, { method: 'POST', body: Buffer.alloc(MAX_BODY - 1), headers: { [HEADERS.requestId]: 'rid-500' } });
    const body = assertClientError(res.status, res.headers.get('content-type'), await res.text(), 'internal_error');
    assert.equal(body.requestId, 'rid-500');
    assert.equal(body.fn, 'warm');
  } finally {
    fs.mkdirSync(dir, { recursive: true });
  }
});

test('504 router too slow: upstream_timeout JSON naming the function', async () => {
  const res = await fetch(`http://127.0.0.1:${gw.port}/hang/x`);
  const body = assertClientError(res.status, res.headers.get('content-type'), await res.text(), 'upstream_timeout');
  assert.equal(body.fn, 'hang');
});
