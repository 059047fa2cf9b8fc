/**
 * The gateway end to end on real processes: Debian nginx + the Lua module (2 workers), redis-rest,
 * a real redis-server, a fake orchestrator speaking the Redis contract, and a plain HTTP server on
 * loopback playing the router (it records what it receives and echoes bodies).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { type ClientErrorBody, HEADERS } from '@faas/contracts';
import type { Gateway } from '../src/index';
import { type Backends, assertClientError, sleep, startBackends, startHttpServer, startPrimedGateway, stopBackends } from './harness';

const WAKE_TIMEOUT_MS = 1500;

interface Seen { method: string; url: string; requestId: string | undefined; bodySha: string; bodyLength: number }

async function startRouter() {
  const seen: Seen[] = [];
  const srv = await startHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const rid = req.headers[HEADERS.requestId];
      seen.push({ method: req.method ?? '', url: req.url ?? '', requestId: typeof rid === 'string' ? rid : undefined, bodySha: createHash('sha256').update(body).digest('hex'), bodyLength: body.length });
      if (req.url?.startsWith('/stale')) {
        // The router's own reply when it has no endpoint for the function (marked, like Envoy's local reply).
        res.writeHead(503, { 'content-type': 'text/plain', [HEADERS.routerNoUpstream]: '1' });
        res.end('no healthy upstream');
      } else if (req.url?.startsWith('/fn503')) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('function says 503');
      } else if (req.method === 'POST') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(body);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ url: req.url }));
      }
    });
  });
  return { ...srv, seen };
}

describe('gateway (nginx + Lua) with redis-rest, Redis, a fake orchestrator and a stand-in router', () => {
  let b: Backends;
  let router: Awaited<ReturnType<typeof startRouter>>;
  let gw: Gateway;
  let orch: Backends['orch'];
  const accessLines: string[] = [];
  const errorLines: string[] = [];
  const base = () => `http://127.0.0.1:${gw.port}`;

  const healthz = async () => (await (await fetch(`${base()}/healthz`)).json()) as { primed: boolean; rev: number };
  const waitRev = async (rev: number) => {
    for (let i = 0; i < 200; i++) {
      if ((await healthz()).rev >= rev) return;
      await sleep(20);
    }
    throw new Error(`gateway never saw rev ${rev}`);
  };

  before(async () => {
    b = await startBackends({
      warm: { state: 'warm' },
      cold: { startMs: 300 },
      crowd: { startMs: 400 },
      slow: { neverReady: true },
      flip: { state: 'warm', startMs: 200 },
      stale: { state: 'warm' },
      fn503: { state: 'warm' },
    });
    orch = b.orch;
    router = await startRouter();
    gw = await startPrimedGateway(b, {
      workers: 2, routerPort: router.port, wakeTimeoutMs: WAKE_TIMEOUT_MS,
      onLog: (line, stream) => { (stream === 'stdout' ? accessLines : errorLines).push(line); },
    });
  });

  after(async () => {
    await gw?.stop();
    await router?.close();
    await stopBackends(b);
    if (process.exitCode) console.error(errorLines.slice(-20).join('\n'));
  });

  test('warm function: proxied at once, original URI (path + query) forwarded, request id kept, no wake', async () => {
    const rid = `rid-${randomUUID()}`;
    const res = await fetch(`${base()}/warm/a/b?x=1&y=%20z`, { headers: { [HEADERS.requestId]: rid } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { url: '/warm/a/b?x=1&y=%20z' });
    assert.equal(res.headers.get(HEADERS.requestId), rid);
    assert.equal(res.headers.get(HEADERS.heldMs), null);
    const s = router.seen.find((x) => x.requestId === rid);
    assert.equal(s?.url, '/warm/a/b?x=1&y=%20z');
    const exact = await fetch(`${base()}/warm`);
    assert.deepEqual(await exact.json(), { url: '/warm' });
    assert.ok(exact.headers.get(HEADERS.requestId), 'a generated request id is returned');
    assert.equal(orch.wakesFor('warm'), 0);
  });

  test('paths the router would normalize differently are refused with 400 invalid_request', async () => {
    const rawGet = (p: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: gw.port, path: p }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    const before = router.seen.length;
    for (const p of [
      '/warm/../cold', '/warm/./x', '/warm/.', '/warm/..', '/warm/x/..', '/warm/x/.?q=1', '/../warm', '/./warm',
      '/warm//x', '//warm', '/warm/x//',
      '/warm/%2e%2e/cold', '/warm/%2E%2E/cold', '/warm/.%2e/cold', '/warm/a%2Eb', '/warm/%2F', '/warm%2fx', '/warm/%5cx', '/warm/%5Cx',
      '/warm\\x', '/warm/x\\..\\y',
      // nginx resolves these onto its own exact locations (/, /healthz): refused there too.
      '/x/../healthz', '/healthz/.', '/x/..',
    ]) {
      const r = await rawGet(p);
      assert.equal(r.status, 400, `${p}: ${r.body}`);
      assert.equal((JSON.parse(r.body) as ClientErrorBody).error, 'invalid_request', p);
    }
    assert.equal(router.seen.length, before, 'nothing reached the router');
    assert.equal((await rawGet('/warm/a.b/..c?x=../y')).status, 200, 'dots inside segments and in the query are fine');
    assert.equal((await rawGet('/warm/x/?y=//z')).status, 200, 'a trailing slash and slashes in the query are fine');
    // The router's view of what passed: the same raw URIs, so both agree on the function.
    assert.deepEqual(router.seen.slice(before).map((x) => x.url), ['/warm/a.b/..c?x=../y', '/warm/x/?y=//z']);
  });

  test('a router "no upstream" reply marks a warm function cold: the next request takes the wake path', async () => {
    const first = await fetch(`${base()}/stale/x`);
    assert.equal(first.status, 503);
    assert.equal(first.headers.get('retry-after'), '2');
    assert.equal(first.headers.get(HEADERS.heldMs), null, 'believed warm: proxied at once');
    // The shared dict is common to all workers: the next request goes through the wake call
    // (redis-rest answers at once for a warm function; the request carries x-faas-held-ms).
    const second = await fetch(`${base()}/stale/x`);
    assert.match(second.headers.get(HEADERS.heldMs) ?? '', /^\d+$/, 'next request took the wake path');
    assert.ok(errorLines.some((l) => l.includes('router has no upstream for stale')), 'the state change is logged');
    // A function's own 503 (no marker) does not change the gateway's state.
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${base()}/fn503`);
      assert.equal(r.status, 503);
      assert.equal(r.headers.get(HEADERS.heldMs), null, 'function 503s keep the function warm');
      // A function's own answer passes through untouched (not turned into a platform error).
      assert.equal(r.headers.get('content-type'), 'text/plain');
      assert.equal(await r.text(), 'function says 503');
    }
  });

  test('cold function: held until warm, then forwarded with x-faas-held-ms', async () => {
    const rid = `rid-${randomUUID()}`;
    const res = await fetch(`${base()}/cold/p?q=1`, { headers: { [HEADERS.requestId]: rid } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { url: '/cold/p?q=1' });
    const held = Number(res.headers.get(HEADERS.heldMs));
    assert.ok(Number.isInteger(held) && held >= 200, `held ${String(res.headers.get(HEADERS.heldMs))} ms`);
    assert.equal(res.headers.get(HEADERS.requestId), rid);
    assert.equal(orch.starts.get('cold'), 1);
    assert.ok(orch.wakes.some((w) => w.fn === 'cold' && w.requestId === rid), 'the wake carries the request id');
  });

  test('20 concurrent cold requests: all 200, one start, served by both workers', async () => {
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${base()}/crowd/${i}`).then(async (r) => ({ status: r.status, body: (await r.json()) as { url: string }, held: r.headers.get(HEADERS.heldMs) }))));
    for (const [i, r] of all.entries()) {
      assert.equal(r.status, 200);
      assert.equal(r.body.url, `/crowd/${i}`);
      assert.ok(r.held !== null);
    }
    assert.equal(orch.starts.get('crowd'), 1);
    // Access log lines are followed from a file: wait (bounded) for all 20 of them.
    const crowdLines = () => accessLines.map((l) => JSON.parse(l) as { fn: string; pid: number }).filter((l) => l.fn === 'crowd');
    for (let i = 0; i < 250 && crowdLines().length < 20; i++) await sleep(20);
    const pids = new Set(crowdLines().map((l) => l.pid));
    assert.equal(pids.size, 2, 'both nginx workers served requests');
  });

  test('unknown function: 404 unknown_function JSON, no wake', async () => {
    const res = await fetch(`${base()}/nope/x`);
    const body = assertClientError(res.status, res.headers.get('content-type'), await res.text(), 'unknown_function');
    assert.equal(body.fn, 'nope');
    assert.equal(orch.wakesFor('nope'), 0);
  });

  test('bad or reserved names: 400 invalid_name JSON', async () => {
    for (const p of ['/Hello', '/a.b', '/a.b/c', '/admin', '/healthz/x', '/_faas/wake/warm', '/_faas/error', '/-x', `/${'a'.repeat(41)}`, '/%68ello']) {
      const res = await fetch(`${base()}${p}`);
      assert.equal(res.status, 400, p);
      assert.equal(res.headers.get('content-type'), 'application/json', p);
      assert.equal(((await res.json()) as ClientErrorBody).error, 'invalid_name', p);
    }
  });

  test('/ and /healthz are answered by the gateway itself', async () => {
    const h = await fetch(`${base()}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(((await h.json()) as { ok: boolean }).ok, true);
    assert.equal((await fetch(`${base()}/`)).status, 200);
  });

  test('deadline passed: 503 wake_timeout JSON with Retry-After', async () => {
    const res = await fetch(`${base()}/slow/x`);
    assert.ok(res.headers.get('retry-after'));
    const body = assertClientError(res.status, res.headers.get('content-type'), await res.text(), 'wake_timeout');
    assert.equal(body.fn, 'slow');
  });

  test('a 1 MiB POST body round-trips byte for byte', async () => {
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
    const res = await fetch(`${base()}/warm/echo`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.status, 200);
    const back = Buffer.from(await res.arrayBuffer());
    assert.equal(back.length, body.length);
    assert.ok(back.equals(body));
  });

  test('a published change to cold makes the next request take the wake path', async () => {
    let res = await fetch(`${base()}/flip/1`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get(HEADERS.heldMs), null);
    assert.equal(orch.wakesFor('flip'), 0);
    await waitRev(await orch.setState('flip', 'cold'));
    res = await fetch(`${base()}/flip/2`);
    assert.equal(res.status, 200);
    assert.ok(res.headers.get(HEADERS.heldMs) !== null);
    assert.ok(orch.wakesFor('flip') >= 1);
    assert.equal(orch.starts.get('flip'), 1);
  });

  test('access log: one JSON line per request with fn, status, request id and held ms', async () => {
    const coldLine = () => accessLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.fn === 'cold');
    for (let i = 0; i < 250 && coldLine() === undefined; i++) await sleep(20);
    const cold = coldLine();
    assert.ok(cold);
    assert.equal(cold.status, 200);
    assert.ok(typeof cold.requestId === 'string' && cold.requestId.startsWith('rid-'));
    assert.ok(Number(cold.heldMs) >= 200);
  });
});
