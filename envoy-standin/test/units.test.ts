/** Pure parts: bootstrap parsing, resource decoding, route matching, balancing, circuit breaker. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { BootstrapError, ResourceError, applyOverrides, parseBootstrap } from '../src/index';
import { pickLeastRequest } from '../src/balancer';
import { ClusterRuntime } from '../src/cluster-runtime';
import { decodeCluster, decodeLoadAssignment, decodeResource, decodeRetryOn } from '../src/resources';
import { EMPTY_LOCAL_REPLY, decodeLocalReplyConfig, renderLocalReply } from '../src/local-reply';
import { type OwnReply, REPLIES, renderOwn, resetReply } from '../src/own-replies';
import { localReplyConfig } from '@faas/xds-server';
import { ClientErrorBodySchema, ENVOY_CLUSTER_STATS } from '@faas/contracts';
import { classifyFailure, shouldRetry } from '../src/retry';
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
  assert.equal(b.flushIntervalMs, 250);
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
  assert.throws(() => parseBootstrap(text.replace('stats_flush_interval: 0.25s', 'stats_flush_interval: soon'), 'f.yaml'), /stats_flush_interval/);
  assert.throws(() => parseBootstrap(text.replace('cluster_name: xds_cluster }', 'cluster_name: other }'), 'f.yaml'), /no static_resources\.clusters entry named "other"/);
  assert.throws(() => parseBootstrap('a: [', 'f.yaml'), /YAML/);
});

const SAFE = decodeRetryOn('connect-failure,refused-stream,reset-before-request');
const table: RouteTable = {
  name: 'fn_routes',
  virtualHosts: [{
    name: 'functions', domains: ['*'], routes: [
      { name: 'a-exact', match: { kind: 'path', value: '/a', caseSensitive: true }, cluster: 'fn-a', prefixRewrite: '/', timeoutMs: 1000, numRetries: 2, retryOn: SAFE },
      { name: 'a-prefix', match: { kind: 'prefix', value: '/a/', caseSensitive: true }, cluster: 'fn-a', prefixRewrite: '/', timeoutMs: 1000, numRetries: 2, retryOn: SAFE },
      { name: 'raw', match: { kind: 'prefix', value: '/raw', caseSensitive: true }, cluster: 'fn-raw', prefixRewrite: undefined, timeoutMs: 0, numRetries: 0, retryOn: SAFE },
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
  const c = new ClusterRuntime('fn-a', { name: 'fn-a', edsServiceName: 'fn-a', staticEndpoints: undefined, maxRequests: 1, maxPendingRequests: 2, maxRequestsPerHost: Infinity, connectTimeoutMs: 1000, metadata: new Map() }, stats);
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

test('retry_on: the platform policy retries connect failures and resets before the runtime read the request, never a request the function may have received', () => {
  assert.deepEqual(SAFE, { connectFailure: true, resetBeforeRequest: true, anyReset: false, statusCodes: [] });
  assert.equal(classifyFailure(false, false), 'connect_failure');
  assert.equal(classifyFailure(true, false), 'reset_before_request', 'no 100 Continue, no response byte: the runtime never read the head');
  assert.equal(classifyFailure(true, true), 'reset_after_request');
  assert.equal(shouldRetry(SAFE, 'connect_failure'), true);
  assert.equal(shouldRetry(SAFE, 'reset_before_request'), true);
  assert.equal(shouldRetry(SAFE, 'reset_after_request'), false);
  assert.deepEqual(decodeRetryOn('connect-failure'), { connectFailure: true, resetBeforeRequest: false, anyReset: false, statusCodes: [] });
  assert.deepEqual(decodeRetryOn('connect-failure,retriable-status-codes', [429]).statusCodes, [429], 'statuses only with retriable-status-codes');
  assert.deepEqual(decodeRetryOn('connect-failure', [429]).statusCodes, []);
  for (const on of ['reset', '5xx', 'gateway-error']) assert.deepEqual(decodeRetryOn(on), { connectFailure: true, resetBeforeRequest: true, anyReset: true, statusCodes: [] }, on);
  assert.deepEqual(decodeRetryOn('retriable-4xx'), { connectFailure: false, resetBeforeRequest: false, anyReset: false, statusCodes: [] });
});

test('local_reply_config: the pushed config gives JSON per contract code; unsupported parts refused', () => {
  const cfg = decodeLocalReplyConfig(localReplyConfig(), 'hcm');
  const ctx = (r: OwnReply) => renderOwn(cfg, r, { 'x-request-id': 'rid-1' }, undefined);
  const cases: Array<[OwnReply, number, string]> = [
    [REPLIES.noHealthy, 503, 'no_healthy_instance'], [REPLIES.noRoute, 404, 'not_found'], [REPLIES.overflow, 503, 'overloaded'],
    [REPLIES.timeout, 504, 'upstream_timeout'], [REPLIES.headersTooLarge, 431, 'headers_too_large'], [REPLIES.badRequest, 400, 'invalid_request'],
    [resetReply('UC', 'connection termination'), 502, 'instance_failed'], [resetReply('URX', 'connection termination'), 503, 'no_healthy_instance'],
    [resetReply('UF', 'connection failure'), 503, 'no_healthy_instance'], [REPLIES.noCluster, 503, 'no_healthy_instance'],
  ];
  for (const [r, status, code] of cases) {
    const out = ctx(r);
    assert.equal(out.status, status, code);
    assert.equal(out.headers['content-type'], 'application/json');
    const body = ClientErrorBodySchema.parse(JSON.parse(out.body));
    assert.equal(body.error, code);
    assert.equal(body.requestId, 'rid-1');
    assert.equal(body.fn, undefined, 'no cluster metadata, omitted');
    assert.equal(out.headers['x-faas-router-no-upstream'], r.flag === 'UH' || r.flag === 'NR' ? '1' : undefined, code);
  }
  const meta = new Map([['faas', { fn: 'hello' }]]);
  const withFn = renderLocalReply(cfg, { status: 503, flag: 'UH', body: 'x', details: 'y', requestHeaders: {}, cluster: 'fn-hello', clusterMetadata: meta });
  assert.deepEqual(JSON.parse(withFn.body), { error: 'no_healthy_instance', message: 'x (y)', fn: 'hello' });
  assert.equal(decodeLocalReplyConfig(null, 'hcm').mappers.length, 0);
  assert.equal(renderLocalReply(EMPTY_LOCAL_REPLY, { status: 503, flag: 'UH', body: 'no healthy upstream', details: '', requestHeaders: {}, cluster: undefined, clusterMetadata: undefined }).body, 'no healthy upstream');
  assert.throws(() => decodeLocalReplyConfig({ mappers: [{ filter: { header_filter: {} } }] }, 'hcm'), /response_flag_filter and status_code_filter/);
  assert.throws(() => decodeLocalReplyConfig({ body_format: { format: 'text_format', text_format: '%START_TIME%' } }, 'hcm'), /START_TIME/);
  assert.throws(() => decodeLocalReplyConfig({ mappers: [{ filter: { response_flag_filter: { flags: ['UH'] } }, body: { inline_string: 'x' } }] }, 'hcm'), /body is not supported/);
});

test('per-host limit: decoded from per_host_thresholds; least-request never picks a host at its limit', () => {
  const c = decodeCluster({ name: 'fn-a', cluster_discovery_type: 'type', type: 'EDS', circuit_breakers: { thresholds: [{ priority: 'DEFAULT', max_requests: { value: 8 } }], per_host_thresholds: [{ priority: 'DEFAULT', max_connections: { value: 2 } }] } });
  assert.equal(c.maxRequestsPerHost, 2);
  assert.equal(decodeCluster({ name: 'fn-a', cluster_discovery_type: 'type', type: 'EDS' }).maxRequestsPerHost, Infinity);
  assert.throws(() => decodeCluster({ name: 'fn-a', cluster_discovery_type: 'type', type: 'EDS', circuit_breakers: { per_host_thresholds: [{ max_connections: { value: 0 } }] } }), /at least 1/);
  const h = [{ active: 2 }, { active: 2 }, { active: 1 }];
  // Every random draw: the only host below the limit.
  for (const r of [0, 0.34, 0.5, 0.67, 0.99]) assert.equal(pickLeastRequest(h, () => r, undefined, 2), h[2]);
  assert.equal(pickLeastRequest(h, Math.random, new Set([h[2]!]), 2), h[2], 'a tried host is picked again if it is the only one with room');
  assert.equal(pickLeastRequest([{ active: 2 }, { active: 3 }], Math.random, undefined, 2), undefined);
});

test('per-host limit: requests beyond it wait in the cluster FIFO and start when a host frees up', () => {
  const stats = new StatsRegistry(undefined);
  // Cluster-wide limit far above the per-host one: only the per-host limit holds requests back.
  const c = new ClusterRuntime('fn-p', { name: 'fn-p', edsServiceName: 'fn-p', staticEndpoints: undefined, maxRequests: 100, maxPendingRequests: 2, maxRequestsPerHost: 1, connectTimeoutMs: 1000, metadata: new Map() }, stats);
  c.setEndpoints([{ address: '127.0.0.1', port: 1, health: 'HEALTHY' }, { address: '127.0.0.1', port: 2, health: 'HEALTHY' }]);
  const started: number[] = [];
  const hostOf = new Map<number, ReturnType<ClusterRuntime['pick']>>();
  // What Exchange does: on admission pick a host and take it.
  const noHost: number[] = [];
  const run = (i: number) => {
    const h = c.pick(Math.random);
    if (c.healthy.length === 0) { noHost.push(i); return; } // Exchange: 503 "no healthy upstream"
    assert.ok(h, `request ${i} found a host with room`);
    c.acquireHost(h);
    hostOf.set(i, h);
    started.push(i);
  };
  const w = (i: number) => ({ grant: () => run(i) });
  for (let i = 0; i < 2; i++) { assert.equal(c.admit(w(i)), 'now'); run(i); }
  assert.deepEqual(c.hosts.map((x) => x.active), [1, 1]);
  assert.equal(c.admit(w(2)), 'queued');
  assert.equal(c.admit(w(3)), 'queued');
  assert.equal(c.admit(w(4)), 'overflow', 'same pending limit as before');
  // Request 0 ends: its host frees first, then its cluster slot.
  const freed = hostOf.get(0)!;
  c.releaseHost(freed);
  assert.deepEqual(started, [0, 1, 2], 'the head of the queue starts as soon as a host has room');
  assert.equal(hostOf.get(2), freed);
  c.release();
  assert.deepEqual(started, [0, 1, 2]);
  for (const x of c.hosts) assert.ok(x.active <= 1);
  // No healthy host left: waiters are let through (they answer "no healthy upstream").
  c.setEndpoints([]);
  assert.equal(c.pendingCount(), 0);
  assert.deepEqual(noHost, [3]);
});

test('stats flush: Envoy UdpStatsdSink semantics (used counters as deltas, gauges absolute each flush, one timer sample per request)', () => {
  const out: string[] = [];
  const sink = {
    counter: (n: string, d: number) => { out.push(`${n}:${d}|c`); },
    gauge: (n: string, v: number) => { out.push(`${n}:${v}|g`); },
    timing: (n: string, ms: number) => { out.push(`${n}:${ms}|ms`); },
    close: async () => undefined,
  };
  const stats = new StatsRegistry(sink);
  const c = new ClusterRuntime('fn-s', { name: 'fn-s', edsServiceName: 'fn-s', staticEndpoints: undefined, maxRequests: 1, maxPendingRequests: 1, maxRequestsPerHost: Infinity, connectTimeoutMs: 1000, metadata: new Map() }, stats);
  const names = ['upstream_rq_active', 'upstream_rq_pending_active', 'upstream_rq_pending_overflow', 'upstream_cx_none_healthy', 'upstream_rq_total', 'upstream_rq_time'];
  assert.deepEqual(names, [ENVOY_CLUSTER_STATS.rqActive, ENVOY_CLUSTER_STATS.rqPendingActive, ENVOY_CLUSTER_STATS.rqPendingOverflow, ENVOY_CLUSTER_STATS.cxNoneHealthy, ENVOY_CLUSTER_STATS.rqTotal, ENVOY_CLUSTER_STATS.rqTime]);
  const w = { grant: () => undefined };
  c.admit(w); c.admit(w); c.admit(w); // one in flight, one pending, one overflow
  c.cRqTotal.inc(); c.cRqTotal.inc();
  c.recordTime(12);
  assert.deepEqual(out, ['cluster.fn-s.upstream_rq_time:12|ms'], 'timers go out at once, one per request');
  out.length = 0;
  stats.flush();
  for (const l of ['cluster.fn-s.upstream_rq_total:2|c', 'cluster.fn-s.upstream_rq_pending_overflow:1|c', 'cluster.fn-s.upstream_rq_active:1|g', 'cluster.fn-s.upstream_rq_pending_active:1|g']) assert.ok(out.includes(l), `${l} in ${out.join(' ')}`);
  assert.ok(!out.some((l) => l.startsWith('cluster.fn-s.upstream_cx_none_healthy:')), 'a never-used counter is not written');
  out.length = 0;
  c.cRqTotal.inc();
  stats.flush();
  assert.ok(out.includes('cluster.fn-s.upstream_rq_total:1|c'), 'a delta since the last flush');
  assert.ok(out.includes('cluster.fn-s.upstream_rq_pending_overflow:0|c'), 'a used counter is written every flush');
  assert.ok(out.includes('cluster.fn-s.upstream_rq_active:1|g'), 'gauges absolute every flush');
});
