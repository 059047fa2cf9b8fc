/** Pure pieces: subscription rules, validation, resource builder, snapshot versions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDeltaNames, applySotwNames, newSubscription, subscribes } from '../src/subscription';
import {
  buildCluster, buildClusterLoadAssignment, buildEnvoyListener, buildGrpcListener, buildRoutes, buildSnapshot,
  circuitCapacity, durationMs, parseWaitMs, validateSpec, InvalidSpecError, MAX_PENDING_REQUESTS, SAFE_RETRY_ON, RETRIABLE_STATUS_CODES,
} from '../src/index';
import { spec } from './test-server';
import { CLIENT_ERROR_CODES, type ClientErrorCode, HEADERS, ROUTER_FAILURE_REDIRECT } from '@faas/contracts';
import type { LocalReplyConfig } from '../src/generated/envoy/extensions/filters/network/http_connection_manager/v3/LocalReplyConfig';
import { mentions, rejectedNames } from '../src/index';

test('SotW subscription: empty names is wildcard only before any name was requested', () => {
  const s = newSubscription();
  assert.deepEqual(applySotwNames(s, []), ['*']);
  assert.ok(subscribes(s, 'anything'));
  assert.deepEqual(applySotwNames(s, []), []);
  const t = newSubscription();
  assert.deepEqual(applySotwNames(t, ['a', 'b']), ['a', 'b']);
  assert.deepEqual(applySotwNames(t, ['b', 'c']), ['c']);
  assert.ok(!subscribes(t, 'a'));
  assert.deepEqual(applySotwNames(t, []), []);
  assert.ok(!subscribes(t, 'b') && !t.wildcard, 'empty after names means nothing');
  assert.deepEqual(applySotwNames(t, ['*', 'x']), ['x', '*']);
  assert.ok(subscribes(t, 'zzz'));
});

test('delta subscription: first empty request is legacy wildcard; explicit * and unsubscribe', () => {
  const s = newSubscription();
  assert.deepEqual(applyDeltaNames(s, true, [], []), ['*']);
  assert.ok(s.wildcard);
  const t = newSubscription();
  assert.deepEqual(applyDeltaNames(t, true, ['a'], []), ['a']);
  assert.ok(!t.wildcard);
  assert.deepEqual(applyDeltaNames(t, false, ['a', 'b'], []), ['b']);
  applyDeltaNames(t, false, [], ['a']);
  assert.ok(!subscribes(t, 'a') && subscribes(t, 'b'));
  assert.deepEqual(applyDeltaNames(t, false, ['*'], []), ['*']);
  applyDeltaNames(t, false, [], ['*']);
  assert.ok(!t.wildcard);
});

test('validateSpec accepts a good spec and takes the name from the URL', () => {
  const s = validateSpec({ timeoutMs: 100, concurrency: 1, endpoints: [{ id: 'i-1', address: 'fd00::1', port: 8080, health: 'DRAINING' }] }, 'fn-a');
  assert.equal(s.name, 'fn-a');
  assert.equal(s.endpoints[0]!.health, 'DRAINING');
  assert.throws(() => validateSpec([], 'x'), (e: unknown) => e instanceof InvalidSpecError && e.field === 'body');
  assert.throws(() => validateSpec({ timeoutMs: 1, concurrency: 1, endpoints: 'no' }, 'x'), (e: unknown) => e instanceof InvalidSpecError && e.field === 'endpoints');
  assert.equal(parseWaitMs(undefined), 10_000);
  assert.equal(parseWaitMs('0'), 0);
  assert.throws(() => parseWaitMs('-1'));
  assert.throws(() => parseWaitMs(['1', '2']));
});

test('routes: exact and prefix match, rewrite, timeout, only safe retries', () => {
  const [exact, prefix] = buildRoutes(spec('hello', undefined, { timeoutMs: 2500 }));
  assert.deepEqual(exact!.match, { path: '/hello' });
  assert.deepEqual(prefix!.match, { prefix: '/hello/' });
  for (const r of [exact!, prefix!]) {
    assert.equal(r.route!.cluster, 'fn-hello');
    assert.equal(r.route!.prefix_rewrite, '/');
    assert.deepEqual(r.route!.timeout, { seconds: 2, nanos: 500_000_000 });
    assert.equal(r.route!.retry_policy!.retry_on, SAFE_RETRY_ON);
    assert.equal(r.route!.retry_policy!.retry_host_predicate![0]!.name, 'envoy.retry_host_predicates.previous_hosts');
  }
  // Never a retry of a request a handler may have seen: no 5xx/gateway-error/reset, and the only
  // retried status is the runtime's refusal before its handler.
  assert.doesNotMatch(SAFE_RETRY_ON, /5xx|gateway-error|retriable-4xx|(^|,)reset(,|$)/);
  assert.deepEqual(RETRIABLE_STATUS_CODES, [429]);
});

test('cluster: EDS over ADS, least_request then round_robin, panic threshold 0, breakers from healthy hosts', () => {
  const s = spec('c', [['10.0.0.1', 1], ['10.0.0.2', 2], ['10.0.0.3', 3, 'DRAINING']], { concurrency: 3 });
  assert.equal(circuitCapacity(s), 6);
  assert.equal(circuitCapacity(spec('d', [], { concurrency: 3 })), 3);
  const c = buildCluster(s);
  assert.equal(c.name, 'fn-c');
  assert.equal(c.type, 'EDS');
  assert.ok(c.eds_cluster_config!.eds_config!.ads !== undefined);
  assert.deepEqual(c.load_balancing_policy!.policies!.map((p) => p.typed_extension_config!.name), ['envoy.load_balancing_policies.least_request', 'envoy.load_balancing_policies.round_robin']);
  assert.equal(c.common_lb_config!.healthy_panic_threshold!.value, 0);
  const th = c.circuit_breakers!.thresholds![0]!;
  assert.equal(th.max_connections!.value, 6);
  assert.equal(th.max_requests!.value, 6);
  assert.equal(th.max_pending_requests!.value, MAX_PENDING_REQUESTS);
  // Per host: at most `concurrency` connections (= in-flight requests over HTTP/1.1).
  assert.deepEqual(c.circuit_breakers!.per_host_thresholds, [{ priority: 'DEFAULT', max_connections: { value: 3 } }]);
  const cla = buildClusterLoadAssignment(s);
  assert.equal(cla.cluster_name, 'fn-c');
  assert.deepEqual(cla.endpoints![0]!.locality, { region: 'local' });
  assert.equal(cla.endpoints![0]!.load_balancing_weight!.value, 1);
  assert.deepEqual(cla.endpoints![0]!.lb_endpoints!.map((e) => e.health_status), ['HEALTHY', 'HEALTHY', 'DRAINING']);
  assert.deepEqual(buildClusterLoadAssignment(spec('e', [])).endpoints, []);
});

test('listeners: Envoy socket listener from options, gRPC api_listener, same RDS name', () => {
  const l = buildEnvoyListener({ routerAddress: '0.0.0.0', routerPort: 10123 });
  assert.equal(l.name, 'http_ingress');
  assert.deepEqual(l.address!.socket_address!.port_value, 10123);
  const hcm = l.filter_chains![0]!.filters![0]!.typed_config as unknown as Record<string, unknown>;
  assert.equal((hcm.rds as { route_config_name: string }).route_config_name, 'fn_routes');
  assert.deepEqual(hcm.generate_request_id, { value: true });
  assert.equal((hcm.access_log as unknown[]).length, 1);
  const lrc = hcm.local_reply_config as LocalReplyConfig;
  assert.deepEqual(lrc.mappers![0]!.filter, { response_flag_filter: { flags: ['UH'] } });
  assert.deepEqual(lrc.mappers![0]!.headers_to_add, [{ header: { key: HEADERS.routerNoUpstream, value: '1' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }]);
  // instance_failed (UC) hands the reply to the gateway, which asks why the instance ended.
  const uc = lrc.mappers!.find((m) => JSON.stringify(m.filter) === JSON.stringify({ response_flag_filter: { flags: ['UC'] } }));
  assert.deepEqual(uc?.headers_to_add, [{ header: { key: ROUTER_FAILURE_REDIRECT.header, value: ROUTER_FAILURE_REDIRECT.location }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }]);
  // Every mapper and the default answer JSON with a contract code.
  for (const f of [...lrc.mappers!.map((m) => m.body_format_override!), lrc.body_format!]) {
    assert.equal(f.content_type, 'application/json');
    assert.ok(CLIENT_ERROR_CODES.includes(f.json_format!.fields!.error!.stringValue as ClientErrorCode));
  }
  const g = buildGrpcListener();
  assert.equal(g.name, 'fn-gw');
  assert.equal(g.address, undefined);
  assert.match(JSON.stringify(g.api_listener), /fn_routes/);
  assert.deepEqual(durationMs(1001), { seconds: 1, nanos: 1_000_000 });
});

test('snapshot versions: per type, prefixed by the epoch, changed only with content', () => {
  const opts = { epoch: 'E1', routerAddress: '0.0.0.0', routerPort: 10000 };
  const two = spec('a', [['127.0.0.1', 9001], ['127.0.0.1', 9002]]);
  const s1 = buildSnapshot([two], opts);
  for (const v of Object.values(s1.versions)) assert.ok(v.startsWith('E1-'));
  const s2 = buildSnapshot([two], opts, s1);
  assert.deepEqual(s2.versions, s1.versions);
  assert.equal(s2.functions.get('a'), s1.functions.get('a'), 'unchanged entries are reused');
  const s3 = buildSnapshot([spec('a', [['127.0.0.1', 9001], ['127.0.0.1', 9002, 'DRAINING']])], opts, s2);
  assert.notEqual(s3.versions.endpoint, s2.versions.endpoint);
  assert.notEqual(s3.versions.cluster, s2.versions.cluster, 'capacity follows healthy count');
  assert.equal(s3.versions.listener, s2.versions.listener);
  assert.equal(s3.versions.route, s2.versions.route);
  const other = buildSnapshot([spec('a')], { ...opts, epoch: 'E2' });
  assert.ok(other.versions.cluster.startsWith('E2-'), 'a restarted server never repeats a version');
});

test('rejections: a NACK rejects the changed resources, narrowed to those its message names', () => {
  const e = (name: string, hash: string) => ({ type: 'endpoint' as const, name, resource: {}, any: { type_url: '', value: Buffer.alloc(0) }, hash });
  const acked = new Map([['fn-a', e('fn-a', '1')], ['fn-b', e('fn-b', '1')]]);
  const sent = new Map([['fn-a', e('fn-a', '2')], ['fn-b', e('fn-b', '2')], ['fn-ab', e('fn-ab', '1')]]);
  assert.deepEqual(rejectedNames(sent, acked, 'fn-a: bad address'), ['fn-a']);
  assert.deepEqual(rejectedNames(sent, acked, 'something is wrong'), ['fn-a', 'fn-b', 'fn-ab']);
  assert.ok(mentions('x fn-ab: y', 'fn-ab') && !mentions('x fn-ab: y', 'fn-a'));
});
