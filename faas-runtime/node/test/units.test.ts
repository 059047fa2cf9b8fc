import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLIENT_ERRORS, DEFAULT_MAX_BODY_BYTES as C_MAX_BODY, HEADERS, RUNTIME_PATHS as C_PATHS, RUNTIME_PORT as C_PORT } from '@faas/contracts';
import { parseHandler, parseRuntimeConfig } from '../src/config';
import { bodyFitsMemory } from '../src/memory-guard';
import { DEFAULT_MAX_BODY_BYTES, REQUEST_ID_HEADER, RUNTIME_ERRORS, RUNTIME_PATHS, RUNTIME_PORT } from '../src/paths';
import { InvalidResultError, toHttpResponse } from '../src/response';

test('duplicated constants equal the contracts values', () => {
  assert.deepEqual(RUNTIME_PATHS, C_PATHS);
  assert.equal(RUNTIME_PORT, C_PORT);
  assert.equal(REQUEST_ID_HEADER, HEADERS.requestId);
  assert.equal(DEFAULT_MAX_BODY_BYTES, C_MAX_BODY);
  for (const [code, status] of Object.entries(RUNTIME_ERRORS)) assert.equal(CLIENT_ERRORS[code as keyof typeof CLIENT_ERRORS]?.status, status, code);
});

test('bodyFitsMemory: body + in use + headroom must stay under memory.max', () => {
  const MiB = 1024 * 1024;
  const cases: [number, number | undefined, number | undefined, boolean][] = [
    [2 * MiB, 64 * MiB, 50 * MiB, false],
    [2 * MiB, 64 * MiB, 10 * MiB, true],
    [48 * MiB, 64 * MiB, 0, true],
    [49 * MiB, 64 * MiB, 0, false],
    [512 * 1024, 64 * MiB, 64 * MiB, true], // small bodies are not checked
    [100 * MiB, undefined, 0, true], // unlimited
    [100 * MiB, 64 * MiB, undefined, true], // memory.current unreadable
  ];
  for (const [bytes, max, current, fits] of cases) assert.equal(bodyFitsMemory(bytes, max, current), fits, `${bytes} ${max} ${current}`);
});

test('parseHandler splits at the last dot and keeps the module inside the code dir', () => {
  assert.deepEqual(parseHandler('index.handler'), { module: 'index', exportName: 'handler' });
  assert.deepEqual(parseHandler('lib/v1.2/main.run'), { module: 'lib/v1.2/main', exportName: 'run' });
  assert.throws(() => parseHandler('../x.handler'), /inside the code directory/);
  assert.throws(() => parseHandler('index'), /must look like/);
});

test('config defaults and validation', () => {
  const c = parseRuntimeConfig({ FAAS_FUNCTION: 'f' });
  assert.equal(c.port, 8080);
  assert.equal(c.codeDir, '/opt/faas/function');
  assert.equal(c.concurrency, 8);
  assert.equal(c.maxBodyBytes, 6 * 1024 * 1024);
  assert.equal(c.handlerStyle, 'http');
  assert.throws(() => parseRuntimeConfig({}), /FAAS_FUNCTION is required/);
  assert.throws(() => parseRuntimeConfig({ FAAS_FUNCTION: 'f', FAAS_TIMEOUT_MS: '-1' }), /FAAS_TIMEOUT_MS/);
  assert.throws(() => parseRuntimeConfig({ FAAS_FUNCTION: 'f', FAAS_PORT: '70000' }), /FAAS_PORT/);
});

test('toHttpResponse: result shapes', () => {
  assert.deepEqual(toHttpResponse('hi'), { statusCode: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from('hi') });
  const bytes = toHttpResponse(new Uint8Array([1, 2, 3]));
  assert.equal(bytes.headers['content-type'], 'application/octet-stream');
  assert.ok(bytes.body.equals(Buffer.from([1, 2, 3])));
  assert.deepEqual(toHttpResponse({ a: 1 }), { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"a":1}') });
  assert.equal(toHttpResponse(undefined).statusCode, 204);
  const r = toHttpResponse({ statusCode: 201, headers: { 'X-A': 'b', 'set-cookie': ['a=1', 'b=2'] }, body: { ok: true } });
  assert.equal(r.statusCode, 201);
  assert.deepEqual(r.headers, { 'x-a': 'b', 'set-cookie': ['a=1', 'b=2'], 'content-type': 'application/json' });
  assert.equal(toHttpResponse({ body: 'aGk=', isBase64Encoded: true }).body.toString(), 'hi');
  // An object with other keys besides body is plain JSON data, not a response.
  assert.equal(toHttpResponse({ body: 'x', other: 1 }).body.toString(), '{"body":"x","other":1}');
  assert.throws(() => toHttpResponse({ statusCode: 99 }), InvalidResultError);
  assert.throws(() => toHttpResponse({ statusCode: 200, headers: { 'bad name': 'x' } }), /invalid header name/);
  assert.throws(() => toHttpResponse({ statusCode: 200, headers: { a: 'x\r\ny: z' } }), /line break/);
  const circ: Record<string, unknown> = {};
  circ.self = circ;
  assert.throws(() => toHttpResponse(circ), /cannot be serialised/);
  assert.throws(() => toHttpResponse(() => 1), /cannot be sent/);
});
