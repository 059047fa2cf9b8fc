/**
 * End to end against the REAL xds-server: config pushed over its control API, requests
 * proxied by the stand-in to plain HTTP servers on 127.0.0.1, stats received over UDP.
 */
import { after, before, describe, test } from 'node:test';
import * as http from 'node:http';
import * as net from 'node:net';
import assert from 'node:assert/strict';
import { ClientErrorBodySchema, HEADERS } from '@faas/contracts';
import { freePort } from '@faas/stack';
import { type XdsServerHandle, startXdsServer } from '@faas/xds-server';
import { type EnvoyStandin, startEnvoyStandin } from '../src/index';
import {
  BOOTSTRAP, TEST_TOKEN, assertJsonError, rawRequest, type StatsdReceiver, type Upstream, putFunction, quietLogger, request, startStatsdReceiver, startUpstream, uniqueNodeId, waitFor,
} from './helpers';

describe('envoy-standin with the real xds-server (SotW)', () => {
  let xds: XdsServerHandle;
  let standin: EnvoyStandin;
  let statsd: StatsdReceiver;
  let a: Upstream;
  let b: Upstream;
  let routerPort: number;

  before(async () => {
    routerPort = await freePort();
    statsd = await startStatsdReceiver();
    [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
    xds = await startXdsServer({
      host: '127.0.0.1', grpcPort: 0, httpPort: 0, routerAddress: '127.0.0.1', routerPort, logger: quietLogger, internalToken: TEST_TOKEN,
      // Small pending queue for the overflow function only (the real default is 1024).
      builderHooks: {
        transformCluster: (fn, c) => {
          const th = c.circuit_breakers?.thresholds?.[0];
          if (fn === 'tiny' && th) th.max_pending_requests = { value: 1 };
          // Cluster-wide limits far above the per-host one: only per_host_thresholds holds back.
          if (fn === 'perhost' && th) { th.max_requests = { value: 100 }; th.max_connections = { value: 100 }; }
          return c;
        },
      },
    });
    standin = await startEnvoyStandin({
      bootstrapPath: BOOTSTRAP, xdsAddress: `127.0.0.1:${xds.grpcPort}`, statsdAddress: `127.0.0.1:${statsd.port}`,
      bindAddress: '127.0.0.1', nodeId: uniqueNodeId(), logger: quietLogger,
    });
    await standin.waitForListener(10_000);
  });

  after(async () => {
    await standin?.close();
    await xds?.close();
    await Promise.all([a?.close(), b?.close(), statsd?.close()]);
  });

  test('binds the pushed listener on the bind address', () => {
    assert.deepEqual(standin.listenerPorts(), [routerPort]);
    assert.equal(standin.status().connected, true);
  });

  test('routes to both endpoints with prefix_rewrite; adds or keeps x-request-id', async () => {
    const put = await putFunction(xds.httpPort, {
      name: 'hello', timeoutMs: 5000, concurrency: 4,
      endpoints: [{ id: 'a', address: '127.0.0.1', port: a.port, health: 'HEALTHY' }, { id: 'b', address: '127.0.0.1', port: b.port, health: 'HEALTHY' }],
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    a.hits = 0; b.hits = 0;
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const r = await request(routerPort, '/hello/x?q=1');
      assert.equal(r.status, 200);
      seen.add(String(r.headers['x-upstream']));
    }
    assert.deepEqual([...seen].sort(), ['a', 'b']);
    assert.ok(a.paths.includes('/x?q=1') || b.paths.includes('/x?q=1'));
    const exact = await request(routerPort, '/hello');
    assert.equal(exact.status, 200);
    assert.ok([...a.paths, ...b.paths].includes('/'), 'exact path rewritten to /');
    // x-request-id: generated when absent (a UUID), kept when present.
    await request(routerPort, '/hello/rid', { headers: { 'x-request-id': 'keep-me-123' } });
    const ids = [...a.requestIds, ...b.requestIds];
    assert.ok(ids.includes('keep-me-123'));
    assert.ok(ids.every((id) => id.length > 0));
    assert.ok(ids.some((id) => /^[0-9a-f-]{36}$/.test(id)));
  });

  test('no route: 404 marked by the local_reply_config mapper; a function\'s own 404/503 is not', async () => {
    const r = await request(routerPort, '/nope/x');
    assertJsonError(r, 'not_found');
    assert.equal(r.headers[HEADERS.routerNoUpstream], '1');
    for (const code of [404, 503]) {
      const own = await request(routerPort, `/hello/status?code=${code}`);
      assert.equal(own.status, code);
      assert.equal(own.headers[HEADERS.routerNoUpstream], undefined, `function ${code}`);
    }
  });

  test('a DRAINING endpoint gets no request', async () => {
    const put = await putFunction(xds.httpPort, {
      name: 'drain', timeoutMs: 5000, concurrency: 4,
      endpoints: [{ id: 'a', address: '127.0.0.1', port: a.port, health: 'HEALTHY' }, { id: 'b', address: '127.0.0.1', port: b.port, health: 'DRAINING' }],
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    for (let i = 0; i < 30; i++) {
      const r = await request(routerPort, '/drain/x');
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-upstream'], 'a');
    }
  });

  test('1 MiB body echoes byte for byte', async () => {
    const put = await putFunction(xds.httpPort, { name: 'echo', timeoutMs: 5000, concurrency: 4, endpoints: [{ id: 'a', address: '127.0.0.1', port: a.port, health: 'HEALTHY' }] });
    assert.equal(put.status, 200);
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
    const r = await request(routerPort, '/echo/echo', { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.length, body.length);
    assert.ok(r.body.equals(body));
  });

  test('an upstream that ignores Expect still gets the body; one that answers before 100 Continue passes through', async () => {
    // A raw HTTP/1.1 server that never writes 100 Continue.
    const server = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        if (head.startsWith('POST /early')) { sock.end('HTTP/1.1 413 Payload Too Large\r\ncontent-length: 5\r\nconnection: close\r\n\r\nearly'); return; }
        const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? '0');
        if (buf.length - end - 4 < len) return;
        sock.end(`HTTP/1.1 200 OK\r\ncontent-length: ${String(len).length}\r\nconnection: close\r\n\r\n${len}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      assert.equal((await putFunction(xds.httpPort, { name: 'noexpect', timeoutMs: 5000, concurrency: 4, endpoints: [{ id: 'raw', address: '127.0.0.1', port, health: 'HEALTHY' }] })).status, 200);
      const r = await request(routerPort, '/noexpect/x', { method: 'POST', body: Buffer.from('twelve bytes') });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), '12', 'the body went out after the continue timeout');
      const early = await request(routerPort, '/noexpect/early', { method: 'POST', body: Buffer.from('unwanted') });
      assert.equal(early.status, 413);
      assert.equal(early.body.toString(), 'early');
    } finally {
      server.close();
    }
  });

  test('a 429 answered before 100 Continue (refused before the handler) is retried, not passed on', async () => {
    let refused = 0;
    const server = http.createServer((_req, res) => { res.end('served'); });
    // checkContinue: the first request is refused without a 100 (as the runtime does at its
    // concurrency limit), later ones get 100 Continue and are served.
    server.on('checkContinue', (req, res) => {
      if (refused === 0) {
        refused += 1;
        res.writeHead(429, { 'content-type': 'application/json' });
        res.end('{"error":"concurrency_limit","message":"full"}');
        return;
      }
      res.writeContinue();
      server.emit('request', req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      assert.equal((await putFunction(xds.httpPort, { name: 'busy', timeoutMs: 5000, concurrency: 4, endpoints: [{ id: 'one', address: '127.0.0.1', port, health: 'HEALTHY' }] })).status, 200);
      const r = await request(routerPort, '/busy/x');
      assert.equal(refused, 1, 'the first attempt was refused');
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'served');
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });

  test('route timeout: 504 and upstream_rq_timeout counted', async () => {
    const put = await putFunction(xds.httpPort, { name: 'slow', timeoutMs: 150, concurrency: 4, endpoints: [{ id: 'a', address: '127.0.0.1', port: a.port, health: 'HEALTHY' }] });
    assert.equal(put.status, 200);
    const r = await request(routerPort, '/slow/sleep?ms=2000');
    assert.equal(r.status, 504);
    assertJsonError(r, 'upstream_timeout');
    assert.equal(standin.counter('cluster.fn-slow.upstream_rq_timeout'), 1);
    assert.equal(standin.status().clusters.find((c) => c.name === 'fn-slow')?.active, 0, 'slot released');
  });

  test('requests above concurrency queue (pending > 0) and all complete', async () => {
    const put = await putFunction(xds.httpPort, { name: 'queue', timeoutMs: 5000, concurrency: 1, endpoints: [{ id: 'a', address: '127.0.0.1', port: a.port, health: 'HEALTHY' }] });
    assert.equal(put.status, 200);
    const all = Promise.all([0, 1, 2].map(() => request(routerPort, '/queue/sleep?ms=200')));
    let maxPending = 0;
    let maxActive = 0;
    const poll = setInterval(() => {
      const c = standin.status().clusters.find((x) => x.name === 'fn-queue');
      maxPending = Math.max(maxPending, c?.pending ?? 0);
      maxActive = Math.max(maxActive, c?.active ?? 0);
    }, 5);
    const rs = await all;
    clearInterval(poll);
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 200]);
    assert.ok(maxPending >= 1, `pending gauge went above 0 (max ${maxPending})`);
    assert.equal(maxActive, 1, 'never more in flight than max_requests');
  });

  test('pending queue full: 503 with x-envoy-overloaded and upstream_rq_pending_overflow', async () => {
    const put = await putFunction(xds.httpPort, { name: 'tiny', timeoutMs: 5000, concurrency: 1, endpoints: [{ id: 'a', address: '127.0.0.1', port: a.port, health: 'HEALTHY' }] });
    assert.equal(put.status, 200);
    const rs = await Promise.all([0, 1, 2].map(() => request(routerPort, '/tiny/sleep?ms=200')));
    const statuses = rs.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 503]);
    const shed = rs.find((r) => r.status === 503);
    assert.equal(shed?.headers['x-envoy-overloaded'], 'true');
    if (shed) assertJsonError(shed, 'overloaded');
    assert.equal(standin.counter('cluster.fn-tiny.upstream_rq_pending_overflow'), 1);
  });

  test('no healthy endpoint: 503 "no healthy upstream" and upstream_cx_none_healthy', async () => {
    const put = await putFunction(xds.httpPort, { name: 'cold', timeoutMs: 5000, concurrency: 1, endpoints: [{ id: 'b', address: '127.0.0.1', port: b.port, health: 'DRAINING' }] });
    assert.equal(put.status, 200);
    const r = await request(routerPort, '/cold/x');
    assert.equal(r.status, 503);
    assertJsonError(r, 'no_healthy_instance');
    assert.equal(r.headers[HEADERS.routerNoUpstream], '1', 'UH reply marked for the gateway');
    assert.equal(standin.counter('cluster.fn-cold.upstream_cx_none_healthy'), 1);
  });

  test('connect failure retries on another host', async () => {
    const dead = await freePort(); // nothing listens there
    const put = await putFunction(xds.httpPort, {
      name: 'retry', timeoutMs: 5000, concurrency: 4,
      endpoints: [{ id: 'dead', address: '127.0.0.1', port: dead, health: 'HEALTHY' }, { id: 'a', address: '127.0.0.1', port: a.port, health: 'HEALTHY' }],
    });
    assert.equal(put.status, 200);
    for (let i = 0; i < 10; i++) {
      const r = await request(routerPort, '/retry/x');
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-upstream'], 'a');
    }
  });

  test('a function that drops the connection after reading a POST: 502 instance_failed, the request is not replayed', async () => {
    const put = await putFunction(xds.httpPort, {
      name: 'crash', timeoutMs: 5000, concurrency: 4,
      endpoints: [{ id: 'a', address: '127.0.0.1', port: a.port, health: 'HEALTHY' }, { id: 'b', address: '127.0.0.1', port: b.port, health: 'HEALTHY' }],
    });
    assert.equal(put.status, 200);
    a.hits = 0; b.hits = 0;
    const r = await request(routerPort, '/crash/crash', { method: 'POST', body: Buffer.from('{"charge":100}'), headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 502);
    assertJsonError(r, 'instance_failed');
    assert.match(JSON.parse(r.body.toString()).message as string, /connection termination/);
    assert.equal(r.headers[HEADERS.routerNoUpstream], undefined, 'not a "no upstream" reply');
    assert.equal(a.hits + b.hits, 1, 'received exactly once, by one instance');
    assert.equal(standin.counter('cluster.fn-crash.upstream_rq_retry'), 0);
  });

  test('requests the HTTP parser refuses: 431 headers_too_large and 400 invalid_request as JSON, not an empty body', async () => {
    const big = await rawRequest(routerPort, `GET /hello/x HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    const bad = await rawRequest(routerPort, 'BREW /hello/x HTTP/1.1\r\nhost: x\r\n\r\n');
    for (const [raw, status, code] of [[big, 431, 'headers_too_large'], [bad, 400, 'invalid_request']] as const) {
      const [head = '', body = ''] = raw.split('\r\n\r\n');
      assert.match(head, new RegExp(`^HTTP/1.1 ${status} `));
      assert.match(head, /content-type: application\/json/);
      assert.equal(ClientErrorBodySchema.parse(JSON.parse(body)).error, code);
    }
  });

  test('per-host limit (per_host_thresholds max_connections = concurrency): never more in flight on one host; the rest queue', async () => {
    const put = await putFunction(xds.httpPort, { name: 'perhost', timeoutMs: 5000, concurrency: 2, endpoints: [{ id: 'a', address: '127.0.0.1', port: a.port, health: 'HEALTHY' }] });
    assert.equal(put.status, 200);
    a.maxActive = 0;
    let maxPending = 0;
    const poll = setInterval(() => { maxPending = Math.max(maxPending, standin.status().clusters.find((x) => x.name === 'fn-perhost')?.pending ?? 0); }, 5);
    const rs = await Promise.all([0, 1, 2, 3, 4, 5].map(() => request(routerPort, '/perhost/sleep?ms=100')));
    clearInterval(poll);
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
    assert.equal(a.maxActive, 2, 'at most concurrency in flight on the one host');
    assert.ok(maxPending >= 1, `the others waited in the pending queue (max ${maxPending})`);
  });

  test('per-host limit 1 on 2 hosts: 4 concurrent slow requests, at most 1 in flight per host, all succeed', async () => {
    const put = await putFunction(xds.httpPort, {
      name: 'perhost2', timeoutMs: 5000, concurrency: 1,
      endpoints: [{ id: 'a', address: '127.0.0.1', port: a.port, health: 'HEALTHY' }, { id: 'b', address: '127.0.0.1', port: b.port, health: 'HEALTHY' }],
    });
    assert.equal(put.status, 200);
    a.maxActive = 0; b.maxActive = 0;
    const rs = await Promise.all([0, 1, 2, 3].map(() => request(routerPort, '/perhost2/sleep?ms=100')));
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 200, 200]);
    assert.equal(a.maxActive, 1, 'host a: at most 1 in flight');
    assert.equal(b.maxActive, 1, 'host b: at most 1 in flight');
  });

  test('statsd lines have Envoy\'s exact names and format', async () => {
    // A function of its own, so counts from earlier tests (and stragglers of their flushes) cannot mix in.
    const eps = [{ id: 'a', address: '127.0.0.1', port: a.port, health: 'HEALTHY' as const }, { id: 'b', address: '127.0.0.1', port: b.port, health: 'HEALTHY' as const }];
    assert.equal((await putFunction(xds.httpPort, { name: 'stats', timeoutMs: 5000, concurrency: 4, endpoints: eps })).status, 200);
    await request(routerPort, '/stats/x');
    await request(routerPort, '/stats/status?code=503');
    standin.flushStats();
    const lines = statsd.lines;
    // Counters are deltas: the 1 s flush timer may have split them over two flushes, so sum.
    const sum = (name: string) => lines.filter((l) => l.startsWith(`${name}:`) && l.endsWith('|c')).reduce((n, l) => n + Number(l.slice(name.length + 1, -2)), 0);
    const expected = [
      'envoy.cluster.fn-stats.upstream_rq_active:0|g', 'envoy.cluster.fn-stats.upstream_rq_pending_active:0|g',
      'envoy.cluster.fn-stats.membership_healthy:2|g', 'envoy.cluster.fn-stats.membership_total:2|g',
      'envoy.cluster.fn-drain.membership_healthy:1|g', 'envoy.cluster.fn-drain.membership_total:2|g',
      'envoy.http.ingress_http.downstream_rq_active:0|g', 'envoy.control_plane.connected_state:1|g',
    ];
    const sums: Array<[string, number]> = [['upstream_rq_total', 2], ['upstream_rq_2xx', 1], ['upstream_rq_200', 1], ['upstream_rq_5xx', 1], ['upstream_rq_503', 1]];
    // Wait for the lines themselves (UDP on loopback), bounded; then check each.
    await waitFor('statsd lines', () => expected.every((e) => lines.includes(e)) && sums.every(([n, v]) => sum(`envoy.cluster.fn-stats.${n}`) === v));
    const line = /^envoy\.[a-z0-9_.-]+:-?\d+(\.\d+)?\|(c|g|ms)$/;
    for (const l of lines) assert.match(l, line);
    assert.ok(lines.some((l) => /^envoy\.cluster\.fn-stats\.upstream_rq_time:\d+\|ms$/.test(l)), 'one upstream_rq_time sample per request');
    // Used counters are written every flush (delta 0 when idle).
    statsd.lines.length = 0;
    standin.flushStats();
    await waitFor('second flush', () => statsd.lines.includes('envoy.cluster.fn-stats.upstream_rq_total:0|c') && statsd.lines.includes('envoy.cluster.fn-stats.upstream_rq_active:0|g'));
    // One metric per datagram, no tags, no sample rate.
    for (const d of statsd.datagrams) assert.ok(!d.includes('#') && !d.includes('|@'), d);
  });
});
