import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CALL_ENV, CALL_HEADERS as CONTRACT_HEADERS, CLIENT_ERROR_CODES } from '@faas/contracts';
import { CALL_HEADERS, CALL_URL_ENV, CallError, PLATFORM_ERROR_CODES, call, createCaller, currentCallContext, parseCallUrl, withCallContext } from '../src/index';
import { type Entry, startEntry } from './server';

const rejectsWith = (p: Promise<unknown>, code: string, extra?: (e: CallError) => void) =>
  assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof CallError, String(err));
    assert.equal(err.code, code, err.message);
    extra?.(err);
    return true;
  });

describe('@faas/call repeats the contracts exactly', () => {
  test('header names, env name and error codes', () => {
    assert.deepEqual(CALL_HEADERS, CONTRACT_HEADERS);
    assert.equal(CALL_URL_ENV, CALL_ENV.url);
    assert.deepEqual([...PLATFORM_ERROR_CODES].sort(), [...CLIENT_ERROR_CODES].sort());
  });
  test('parseCallUrl', () => {
    assert.deepEqual(parseCallUrl('unix:/run/faas-call/gateway.sock'), { socketPath: '/run/faas-call/gateway.sock', base: '' });
    assert.deepEqual(parseCallUrl('http://gateway:8080'), { host: 'gateway', port: 8080, base: '' });
    assert.deepEqual(parseCallUrl('http://127.0.0.1/faas/'), { host: '127.0.0.1', port: 80, base: '/faas' });
    for (const bad of ['unix:relative', 'https://x', 'ftp://x', 'nonsense', 'http://x/?q=1']) assert.equal(parseCallUrl(bad), undefined, bad);
  });
});

describe('call() against a local HTTP entry', () => {
  let e: Entry;
  before(async () => { e = await startEntry(); });
  after(() => e.close());

  for (const via of ['tcp', 'unix'] as const) {
    test(`call("add", {x: 1, y: 2}) is 3 over ${via}`, async () => {
      assert.equal(await call('add', { x: 1, y: 2 }, { url: via === 'tcp' ? e.url : e.unixUrl }), 3);
      const s = e.seen.at(-1)!;
      assert.equal(s.method, 'POST');
      assert.equal(s.headers['content-type'], 'application/json');
      assert.equal(s.headers[CALL_HEADERS.depth], '1');
      assert.equal(s.headers[CALL_HEADERS.deadlineMs], undefined, 'no deadline from the host');
      assert.equal(s.headers[CALL_HEADERS.requestId], undefined, 'the gateway makes one');
    });
  }

  test('FAAS_CALL_URL is the default entry', async () => {
    const old = process.env[CALL_URL_ENV];
    process.env[CALL_URL_ENV] = e.unixUrl;
    try {
      assert.equal(await call('add', { x: 2, y: 3 }), 5);
    } finally {
      if (old === undefined) delete process.env[CALL_URL_ENV];
      else process.env[CALL_URL_ENV] = old;
    }
  });

  test('answers: JSON parsed, text as a string, anything else as bytes', async () => {
    assert.equal(await call('text', 'you', { url: e.url }), 'hi you');
    assert.equal(e.seen.at(-1)!.headers['content-type'], 'text/plain; charset=utf-8');
    assert.deepEqual(await call('bytes', undefined, { url: e.url }), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    assert.equal(e.seen.at(-1)!.headers['content-length'], '0');
  });

  test('request id, depth + 1 and the remaining deadline go out (injected clock)', async () => {
    await call('add', { x: 1, y: 1 }, { url: e.url, requestId: 'rid-1', depth: 4, deadline: 10_000, now: () => 7_500 });
    const s = e.seen.at(-1)!;
    assert.equal(s.headers[CALL_HEADERS.requestId], 'rid-1');
    assert.equal(s.headers[CALL_HEADERS.depth], '5');
    assert.equal(s.headers[CALL_HEADERS.deadlineMs], '2500');
  });

  test('inside a handler the ambient request context is used, explicit options win', async () => {
    assert.equal(currentCallContext(), undefined);
    await withCallContext({ requestId: 'rid-amb', depth: 2, deadline: Date.now() + 60_000 }, async () => {
      await new Promise((r) => setImmediate(r)); // survives async hops
      await call('add', { x: 1, y: 1 }, { url: e.url });
    });
    const s = e.seen.at(-1)!;
    assert.equal(s.headers[CALL_HEADERS.requestId], 'rid-amb');
    assert.equal(s.headers[CALL_HEADERS.depth], '3');
    assert.ok(Number(s.headers[CALL_HEADERS.deadlineMs]) > 0);
    await createCaller({ requestId: 'rid-bound', depth: 0 })('add', { x: 0, y: 0 }, { url: e.url, depth: 6 });
    assert.equal(e.seen.at(-1)!.headers[CALL_HEADERS.requestId], 'rid-bound');
    assert.equal(e.seen.at(-1)!.headers[CALL_HEADERS.depth], '7');
  });

  test('a platform error JSON becomes a CallError with its code, status and request id', async () => {
    await rejectsWith(call('deep', {}, { url: e.url, requestId: 'rid-d' }), 'call_depth_exceeded', (err) => {
      assert.equal(err.status, 508);
      assert.equal(err.requestId, 'rid-d');
      assert.equal(err.fn, 'deep');
    });
    await rejectsWith(call('missing', {}, { url: e.url }), 'unknown_function', (err) => assert.equal(err.status, 404));
  });

  test("a function's own non-2xx answer is function_error with its body", async () => {
    await rejectsWith(call('mine', {}, { url: e.url }), 'function_error', (err) => {
      assert.equal(err.status, 418);
      assert.deepEqual(err.body, { teapot: true });
    });
  });

  test('failures seen by the client itself', async () => {
    await rejectsWith(call('hang', {}, { url: e.url, timeoutMs: 100 }), 'upstream_timeout');
    await rejectsWith(call('badjson', {}, { url: e.url }), 'bad_gateway');
    await rejectsWith(call('add', {}, { url: 'unix:/nonexistent/gateway.sock' }), 'platform_unavailable');
    await rejectsWith(call('Bad_Name', {}, { url: e.url }), 'invalid_name');
    await rejectsWith(call('add', {}, { url: 'ftp://x' }), 'invalid_request');
    const before = e.seen.length;
    await rejectsWith(call('add', {}, { url: e.url, deadline: 1_000, now: () => 1_000 }), 'upstream_timeout');
    assert.equal(e.seen.length, before, 'nothing is sent past the deadline');
  });
});
