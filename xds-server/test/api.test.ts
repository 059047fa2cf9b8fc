/** HTTP control API: validation, not_found, listing, concurrency, routers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SotwAdsClient } from './helpers/ads-client';
import { authorizationHeader } from '@faas/contracts';
import { TEST_TOKEN, spec, startTestServer } from './test-server';

test('validation errors name the bad field', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const bad: [string, unknown, RegExp][] = [
    ['/v1/functions/Bad_Name', spec('x'), /^name/],
    ['/v1/functions/healthz', spec('healthz'), /^name/],
    ['/v1/functions/a1', { ...spec('a1'), timeoutMs: 0 }, /^timeoutMs/],
    ['/v1/functions/a1', { ...spec('a1'), concurrency: 1.5 }, /^concurrency/],
    ['/v1/functions/a1', { ...spec('a1'), endpoints: [{ id: 'i', address: 'example.com', port: 80, health: 'HEALTHY' }] }, /endpoints\[0\]\.address/],
    ['/v1/functions/a1', { ...spec('a1'), endpoints: [{ id: 'i', address: '10.0.0.1', port: 70000, health: 'HEALTHY' }] }, /endpoints\[0\]\.port/],
    ['/v1/functions/a1', { ...spec('a1'), endpoints: [{ id: 'i', address: '10.0.0.1', port: 80, health: 'UNKNOWN' }] }, /endpoints\[0\]\.health/],
    ['/v1/functions/a1', { ...spec('a1'), endpoints: [{ id: 'i', address: '10.0.0.1', port: 80, health: 'HEALTHY' }, { id: 'i', address: '10.0.0.2', port: 80, health: 'HEALTHY' }] }, /endpoints\[1\]\.id/],
    ['/v1/functions/a1', { ...spec('a1'), endpoints: [{ id: 'i', address: '10.0.0.1', port: 80, health: 'HEALTHY' }, { id: 'j', address: '10.0.0.1', port: 80, health: 'HEALTHY' }] }, /endpoints\[1\]\.address/],
    ['/v1/functions/a1', { ...spec('a2') }, /^name/],
    ['/v1/functions/a1', { ...spec('a1'), extra: 1 }, /^extra/],
    ['/v1/functions/a1', '{not json', /^body/],
    ['/v1/functions/a1?wait_ms=abc', spec('a1'), /^wait_ms/],
  ];
  for (const [path, body, field] of bad) {
    const r = await srv.api('PUT', path, body);
    assert.equal(r.status, 400, `${path} ${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error, 'invalid_request');
    assert.match(String(r.body.message), field);
  }
  assert.deepEqual((await srv.api('GET', '/v1/functions')).body, { functions: [] });
});

test('DELETE of an unknown function is not_found; health and listing work', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const r = await srv.del('nope');
  assert.equal(r.status, 404);
  assert.equal(r.body.error, 'not_found');
  assert.deepEqual((await srv.api('GET', '/healthz')).body, { ok: true });
  assert.equal((await srv.api('GET', '/v1/unknown')).status, 404);
  const put = await srv.put(spec('gamma'), 0);
  assert.equal(put.status, 200);
  assert.deepEqual((await srv.api('GET', '/v1/functions')).body, { functions: [spec('gamma')] });
});

test('concurrent PUTs for different functions both complete; routers are listed per node', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const a = new SotwAdsClient(srv.grpcPort, { nodeId: 'r-a' }).start();
  const b = new SotwAdsClient(srv.grpcPort, { nodeId: 'r-b' }).start();
  t.after(() => { a.close(); b.close(); });
  await a.until((x) => x.acked.route !== '', 'a ready');
  await b.until((x) => x.acked.route !== '', 'b ready');
  const names = ['f1', 'f2', 'f3', 'f4', 'f5'];
  const results = await Promise.all(names.map((n, i) => srv.put(spec(n, [['127.0.0.1', 9100 + i]]))));
  for (const r of results) {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.routers, ['r-a', 'r-b']);
  }
  for (const c of [a, b]) assert.deepEqual([...c.state.cluster.keys()].sort(), names.map((n) => `fn-${n}`));
  const routers = (await srv.api('GET', '/v1/routers')).body.routers as { nodeId: string; protocol: string; types: { type: string; resourceCount: number; ackedVersion: string }[] }[];
  assert.deepEqual(routers.map((r) => r.nodeId).sort(), ['r-a', 'r-b']);
  const ra = routers.find((r) => r.nodeId === 'r-a')!;
  assert.equal(ra.protocol, 'sotw');
  assert.equal(ra.types.find((x) => x.type === 'cluster')!.resourceCount, 5);
  assert.equal(ra.types.find((x) => x.type === 'endpoint')!.resourceCount, 5);
  assert.equal(ra.types.find((x) => x.type === 'listener')!.resourceCount, 1);
});

test('every /v1 call needs the internal token; /healthz does not', async (t) => {
  const srv = await startTestServer();
  t.after(() => srv.close());
  const base = `http://127.0.0.1:${srv.httpPort}`;
  const calls: [string, string, Record<string, string>][] = [
    ['GET', '/v1/functions', {}],
    ['GET', '/v1/routers', { authorization: 'Bearer wrong-token-0123456789abcdef0123456789' }],
    ['PUT', '/v1/functions/a1?wait_ms=0', { authorization: TEST_TOKEN }],
    ['DELETE', '/v1/functions/a1', { authorization: `Basic ${TEST_TOKEN}` }],
  ];
  for (const [method, path, headers] of calls) {
    const res = await fetch(`${base}${path}`, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(method === 'PUT' ? { body: JSON.stringify(spec('a1')) } : {}) });
    assert.equal(res.status, 401, `${method} ${path}`);
    const body = (await res.json()) as { error: string; message: string };
    assert.equal(body.error, 'unauthorized');
    assert.match(body.message, /authorization/);
  }
  assert.deepEqual((await srv.api('GET', '/v1/functions')).body, { functions: [] }, 'nothing was stored by the refused PUT');
  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  const ok = await fetch(`${base}/v1/functions`, { headers: authorizationHeader(TEST_TOKEN) });
  assert.equal(ok.status, 200);
});
