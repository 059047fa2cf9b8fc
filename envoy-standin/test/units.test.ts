/** Pure parts: bootstrap parsing, resource decoding, route matching, balancing, circuit breaker. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { BootstrapError, ResourceError, applyOverrides, parseBootstrap } from '../src/index';
import { pickLeastRequest } from '../src/balancer';
import { ClusterRuntime } from '../src/cluster-runtime';
import { decodeCluster, decodeLoadAssignment, decodeResource } from '../src/resources';
import { matchRoute } from '../src/route-match';
import { StatsRegistry } from '../src/stats';
import type { RouteTable } from '../src/model';
import { TYPE_URLS } from '../src/protos';
import { BOOTSTRAP } from './helpers';

test('bootstrap: the repo envoy.yaml parses; overrides apply; the placeholder statsd IP is refused', () => {
  const b = parseBootstrap(fs.readFileSync(BOOTSTRAP, 'utf8'), 'envoy.yaml');
  assert.equal(b.nodeId, 'envoy-gw-1');
  assert.equal(b.nodeCluster, 'fn-gateway');
  assert.deepEqual(b.xds, { host: 'xds-server', port: 18000 });
  assert.equal(b.protocol, 'sotw');
  assert.deepEqual(b.statsd, { host: '__STATSD_IP__', port: 8125, prefix: 'envoy' });
  assert.equal(b.flushIntervalMs, 1000);
  assert.throws(() => applyOverrides(b, {}), /not an IP literal/);
  const o = applyOverrides(b, { xdsAddress: '127.0.0.1:18000', statsdAddress: '127.0.0.1:8125', nodeId: 'n1' });
  assert.deepEqual(o.xds, { host: '127.0.0.1', port: 18000 });
  assert.equal(o.statsd?.host, '127.0.0.1');
  assert.equal(o.nodeId, 'n1');
  assert.throws(() => applyOverrides(b, { xdsAddress: 'nope' }), /xdsAddress "nope" must look like host:port/);
});

test('bootstrap: errors name the field', () => {
  const text = fs.readFileSync(BOOTSTRAP, 'utf8');
  assert.throws(() => parseBootstrap(text.replace('id: envoy-gw-1', 'id: ""'), 'f.yaml'), (e: unknown) => e instanceof BootstrapError && /"node\.id"/.test(e.message));
  assert.throws(() => parseBootstrap(text.replace('api_type: GRPC', 'api_type: REST'), 'f.yaml'), /api_type.*GRPC or DELTA_GRPC/);
  assert.throws(() => parseBootstrap(text.replace('stats_flush_interval: 1s', 'stats_flush_interval: soon'), 'f.yaml'), /stats_flush_interval/);
  assert.throws(() => parseBootstrap(text.replace('cluster_name: xds_cluster }', 'cluster_name: other }'), 'f.yaml'), /no static_resources\.clusters entry named "other"/);
  assert.throws(() => parseBootstrap('a: [', 'f.yaml'), /YAML/);
});

const table: RouteTable = {
  name: 'fn_routes',
  virtualHosts: [{
    name: 'functions', domains: ['*'], routes: [
      { name: 'a-exact', match: { kind: 'path', value: '/a', caseSensitive: true }, cluster: 'fn-a', prefixRewrite: '/', timeoutMs: 1000, numRetries: 2 },
      { name: 'a-prefix', match: { kind: 'prefix', value: '/a/', caseSensitive: true }, cluster: 'fn-a', prefixRewrite: '/', timeoutMs: 1000, numRetries: 2 },
      { name: 'raw', match: { kind: 'prefix', value: '/raw', caseSensitive: true }, cluster: 'fn-raw', prefixRewrite: undefined, timeoutMs: 0, numRetries: 0 },
    ],
  }],
};

test('route matching: exact path, prefix, prefix_rewrite, query kept, no match', () => {
  assert.equal(matchRoute(table, 'x', '/a')?.upstreamPath, '/');
  assert.equal(matchRoute(table, 'x', '/a?x=1')?.upstreamPath, '/?x=1');
  assert.equal(matchRoute(table, 'x', '/a/b/c?q')?.upstreamPath, '/b/c?q');
  assert.equal(matchRoute(table, 'x', '/a/')?.upstreamPath, '/');
  assert.equal(matchRoute(table, 'x', '/raw/z')?.upstreamPath, '/raw/z');
  assert.equal(matchRoute(table, 'x', '/ab'), undefined);
  assert.equal(matchRoute(table, 'x', '/A'), undefined);
});

test('least-request with two choices: prefers the less loaded; excludes tried hosts when others remain', () => {
  const h = [{ active: 5 }, { active: 1 }];
  for (let i = 0; i < 20; i++) assert.equal(pickLeastRequest(h, Math.random), h[1]);
  assert.equal(pickLeastRequest(h, Math.random, new Set([h[1]!])), h[0]);
  assert.equal(pickLeastRequest([h[0]!], Math.random, new Set([h[0]!])), h[0]);
  assert.equal(pickLeastRequest([], Math.random), undefined);
});

test('resources: endpoint addresses must be IPs; health kept; circuit breaker limits', () => {
  assert.throws(() => decodeLoadAssignment({ cluster_name: 'c', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'host.example', port_value: 80 } } } }] }] }), (e: unknown) => e instanceof ResourceError && /not an IP address/.test(e.message));
  const la = decodeLoadAssignment({ cluster_name: 'c', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 80 } } }, health_status: 'DRAINING' }] }] });
  assert.deepEqual(la.endpoints, [{ address: '127.0.0.1', port: 80, health: 'DRAINING' }]);
  const c = decodeCluster({ name: 'fn-a', cluster_discovery_type: 'type', type: 'EDS', circuit_breakers: { thresholds: [{ priority: 'DEFAULT', max_requests: { value: 4 }, max_connections: { value: 6 }, max_pending_requests: { value: 9 } }] } });
  assert.equal(c.maxRequests, 4);
  assert.equal(c.maxPendingRequests, 9);
  assert.equal(c.edsServiceName, 'fn-a');
  assert.throws(() => decodeResource('cluster', { type_url: 'type.googleapis.com/x.Y', value: Buffer.alloc(0) }, 'resource 0'), /cannot decode resource of type "type\.googleapis\.com\/x\.Y"/);
  assert.throws(() => decodeResource('cluster', { '@type': TYPE_URLS.listener, name: 'l' }, 'resource 0'), /does not match/);
});

test('circuit breaker: admits up to max, queues FIFO up to max pending, then overflows', () => {
  const stats = new StatsRegistry(undefined);
  const c = new ClusterRuntime('fn-a', { name: 'fn-a', edsServiceName: 'fn-a', staticEndpoints: undefined, maxRequests: 1, maxPendingRequests: 2, connectTimeoutMs: 1000 }, stats);
  const granted: number[] = [];
  const w = (i: number) => ({ grant: () => granted.push(i) });
  assert.equal(c.admit(w(0)), 'now');
  assert.equal(c.admit(w(1)), 'queued');
  assert.equal(c.admit(w(2)), 'queued');
  assert.equal(c.admit(w(3)), 'overflow');
  assert.equal(stats.counterValue('cluster.fn-a.upstream_rq_pending_overflow'), 1);
  assert.equal(c.pendingCount(), 2);
  c.release();
  assert.deepEqual(granted, [1]);
  c.release();
  assert.deepEqual(granted, [1, 2]);
  assert.equal(c.active, 1);
  c.setEndpoints([{ address: '127.0.0.1', port: 1, health: 'HEALTHY' }, { address: '127.0.0.1', port: 2, health: 'DRAINING' }, { address: '127.0.0.1', port: 3, health: 'UNKNOWN' }]);
  assert.deepEqual(c.healthy.map((h) => h.port), [1, 3]);
  assert.equal(c.hosts.length, 3);
});
