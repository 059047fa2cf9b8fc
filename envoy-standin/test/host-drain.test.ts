/**
 * Envoy drains a host's connection pool when EDS removes it: idle connections close at once,
 * a busy one after its request, and the host, added back, gets a fresh connection. A DRAINING
 * host keeps its connections. Real xds-server, real sockets; the upstream counts the
 * connections it accepted and sees them close.
 */
import { after, before, describe, test } from 'node:test';
import * as http from 'node:http';
import type * as net from 'node:net';
import assert from 'node:assert/strict';
import type { FunctionRouteSpec } from '@faas/contracts';
import { type RouterUnderTest, type Upstream, putFunction, request, startRouter, startUpstream, waitFor } from './helpers';

interface CountingUpstream {
  port: number;
  /** Every connection accepted, in order. */
  conns: net.Socket[];
  /** Requests to /hold wait here until the test ends them. */
  held: http.ServerResponse[];
  close(): Promise<void>;
}

async function startCountingUpstream(id: string): Promise<CountingUpstream> {
  const u: CountingUpstream = { port: 0, conns: [], held: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url === '/hold') { u.held.push(res); return; }
    res.writeHead(200, { 'x-upstream': id });
    res.end(`hello from ${id}`);
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: net.Socket) => { u.conns.push(s); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  u.port = (server.address() as net.AddressInfo).port;
  u.close = () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
  return u;
}

/** Resolves when the server side of `s` has closed; rejects after `ms`. */
function closed(s: net.Socket, what: string, ms = 5000): Promise<void> {
  if (s.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    s.once('close', () => { clearTimeout(t); resolve(); });
  });
}

describe('envoy-standin drains the connections of a host EDS removed', () => {
  let router: RouterUnderTest;
  let other: Upstream;

  before(async () => {
    router = await startRouter();
    other = await startUpstream('other');
  });

  after(async () => {
    await router?.close();
    await other?.close();
  });

  /** PUT the function with these hosts; resolves once the stand-in ACKed it. */
  const route = async (name: string, hosts: Array<{ port: number; health?: 'HEALTHY' | 'DRAINING' }>): Promise<void> => {
    const spec: FunctionRouteSpec = {
      name, timeoutMs: 10_000, concurrency: 4,
      endpoints: hosts.map((h) => ({ id: `h${h.port}`, address: '127.0.0.1', port: h.port, health: h.health ?? 'HEALTHY' })),
    };
    assert.equal((await putFunction(router.xds.httpPort, spec)).status, 200);
  };

  test('an idle connection closes on removal (not on DRAINING); the host, back, gets a new one', async () => {
    const a = await startCountingUpstream('a');
    try {
      await route('drainidle', [{ port: a.port }]);
      assert.equal((await request(router.routerPort, '/drainidle/')).body.toString(), 'hello from a');
      assert.equal(a.conns.length, 1);

      // DRAINING: not routable, still in EDS: its pooled connection stays and is used again.
      await route('drainidle', [{ port: a.port, health: 'DRAINING' }, { port: other.port }]);
      await route('drainidle', [{ port: a.port }]);
      assert.equal((await request(router.routerPort, '/drainidle/')).status, 200);
      assert.equal(a.conns.length, 1, 'the pooled connection was reused');

      await route('drainidle', [{ port: other.port }]);
      await closed(a.conns[0]!, 'the idle connection to the removed host to close');

      await route('drainidle', [{ port: a.port }]);
      assert.equal((await request(router.routerPort, '/drainidle/')).body.toString(), 'hello from a');
      assert.equal(a.conns.length, 2, 'a fresh connection');
      assert.equal(a.conns[1]!.destroyed, false);
    } finally {
      await a.close();
    }
  });

  test('a host removed from one cluster but still in another keeps its connections (one shared pool)', async () => {
    const a = await startCountingUpstream('a');
    try {
      await route('sharedone', [{ port: a.port }]);
      await route('sharedtwo', [{ port: a.port }]);
      assert.equal((await request(router.routerPort, '/sharedone/')).status, 200);
      await route('sharedone', [{ port: other.port }]);
      assert.equal((await request(router.routerPort, '/sharedtwo/')).body.toString(), 'hello from a');
      assert.equal(a.conns.length, 1, 'the pooled connection was reused');
    } finally {
      await a.close();
    }
  });

  test('a request in flight on removal completes; its connection then closes, not reused', async () => {
    const a = await startCountingUpstream('a');
    try {
      await route('drainbusy', [{ port: a.port }]);
      const pending = request(router.routerPort, '/drainbusy/hold');
      await waitFor('the request to reach the upstream', () => a.held.length === 1);

      await route('drainbusy', [{ port: other.port }]);
      assert.equal(a.conns[0]!.destroyed, false, 'the busy connection is not cut');
      a.held[0]!.writeHead(200, { 'x-upstream': 'a' });
      a.held[0]!.end('held reply');
      const r = await pending;
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'held reply');
      await closed(a.conns[0]!, 'the connection of the finished request to close');

      await route('drainbusy', [{ port: a.port }]);
      assert.equal((await request(router.routerPort, '/drainbusy/')).body.toString(), 'hello from a');
      assert.equal(a.conns.length, 2, 'a fresh connection');
    } finally {
      await a.close();
    }
  });
});
