/**
 * Pure builder: desired state of functions -> Envoy v3 resources. Every object is typed
 * with the generated proto types, so a misspelt field fails to compile instead of being
 * dropped silently by protobufjs. Shapes follow the verified YAML of the xDS research.
 */
import type { AnyExtension } from '@grpc/proto-loader';
import { XDS_NAMES, clusterName, type FunctionRouteSpec } from '@faas/contracts';
import { TYPE_URLS } from './proto';
import type { Listener } from './generated/envoy/config/listener/v3/Listener';
import type { RouteConfiguration } from './generated/envoy/config/route/v3/RouteConfiguration';
import type { Route } from './generated/envoy/config/route/v3/Route';
import type { RetryPolicy } from './generated/envoy/config/route/v3/RetryPolicy';
import type { Cluster } from './generated/envoy/config/cluster/v3/Cluster';
import type { ClusterLoadAssignment } from './generated/envoy/config/endpoint/v3/ClusterLoadAssignment';
import type { HttpConnectionManager } from './generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager';
import type { Router } from './generated/envoy/extensions/filters/http/router/v3/Router';
import type { LeastRequest } from './generated/envoy/extensions/load_balancing_policies/least_request/v3/LeastRequest';
import type { RoundRobin } from './generated/envoy/extensions/load_balancing_policies/round_robin/v3/RoundRobin';
import type { PreviousHostsPredicate } from './generated/envoy/extensions/retry/host/previous_hosts/v3/PreviousHostsPredicate';
import type { StdoutAccessLog } from './generated/envoy/extensions/access_loggers/stream/v3/StdoutAccessLog';
import type { Duration } from './generated/google/protobuf/Duration';
import { FN_METADATA, localReplyConfig } from './local-reply';
export { NO_UPSTREAM_FLAGS, localReplyConfig } from './local-reply';

export type { Listener, RouteConfiguration, Route, Cluster, ClusterLoadAssignment };

export interface ListenerOptions {
  /** Address of the socket listener Envoy opens (LDS). */
  routerAddress: string;
  routerPort: number;
}

/** Bound on requests queued in the router per function, beyond which Envoy sheds (503). */
export const MAX_PENDING_REQUESTS = 1024;
/** Retry conditions under which the request never reached the function: safe for any method. */
export const SAFE_RETRY_ON = 'connect-failure,refused-stream,reset-before-request,retriable-status-codes';

/**
 * Statuses retried on another host: the runtime answers 429 concurrency_limit before the handler
 * runs (a router that freed a slot when a client aborted, while the handler still runs, can send
 * one request too many), so a retry never replays a request a handler saw.
 */
export const RETRIABLE_STATUS_CODES: readonly number[] = [429];

/** The generated message type behind each type URL of TYPE_URLS (what an Any of it holds). */
export interface AnyPayloads {
  listener: Listener;
  route: RouteConfiguration;
  cluster: Cluster;
  endpoint: ClusterLoadAssignment;
  hcm: HttpConnectionManager;
  router: Router;
  leastRequest: LeastRequest;
  roundRobin: RoundRobin;
  previousHosts: PreviousHostsPredicate;
  stdoutLog: StdoutAccessLog;
}
export type AnyKind = keyof typeof TYPE_URLS;

/** Compile-time check that AnyPayloads and TYPE_URLS name the same kinds. */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>] extends [never] ? ([Exclude<keyof B, keyof A>] extends [never] ? true : false) : false;
export const ANY_PAYLOADS_MATCH_TYPE_URLS: SameKeys<AnyPayloads, typeof TYPE_URLS> = true;

/**
 * Pack a message into an Any. The type URL is picked by `kind`, and the message must be of
 * that kind's generated type: a message of another type fails to compile (no fields in
 * common), and so does one with fields the type lacks (the rest-parameter check, which
 * also catches variables, not only literals). Proto messages have only optional fields,
 * so a message whose fields are a subset of the type's is structurally one of it.
 */
export function typedAny<K extends AnyKind, M extends AnyPayloads[K]>(
  kind: K,
  message: M,
  ..._onlyFieldsOfKind: [Exclude<keyof M, keyof AnyPayloads[K]>] extends [never] ? [] : [never]
): AnyExtension {
  return { ...message, '@type': TYPE_URLS[kind] } as AnyExtension;
}

export function durationMs(ms: number): Duration {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

const ADS_SOURCE = { ads: {}, resource_api_version: 'V3' as const };

function httpConnectionManager(): HttpConnectionManager {
  const router: Router = {};
  const stdout: StdoutAccessLog = {};
  return {
    stat_prefix: XDS_NAMES.statPrefix,
    codec_type: 'AUTO',
    generate_request_id: { value: true },
    // Keep a request id the gateway already set, so one id follows the request end to end.
    preserve_external_request_id: true,
    normalize_path: { value: true },
    merge_slashes: true,
    request_headers_timeout: durationMs(10_000),
    stream_idle_timeout: durationMs(300_000),
    common_http_protocol_options: { idle_timeout: durationMs(300_000) },
    rds: { route_config_name: XDS_NAMES.routeConfig, config_source: ADS_SOURCE },
    access_log: [{ name: 'envoy.access_loggers.stdout', typed_config: typedAny('stdoutLog', stdout) }],
    // Router filter last (and only last): gRPC clients NACK anything else.
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: typedAny('router', router) }],
    local_reply_config: localReplyConfig(),
  };
}

/** The socket listener served to Envoy nodes. */
export function buildEnvoyListener(opts: ListenerOptions): Listener {
  return {
    name: XDS_NAMES.envoyListener,
    address: { socket_address: { address: opts.routerAddress, port_value: opts.routerPort, protocol: 'TCP' } },
    per_connection_buffer_limit_bytes: { value: 32_768 },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: typedAny('hcm', httpConnectionManager()) }] }],
  };
}

/** The api_listener served to gRPC xDS clients (Envoy rejects api_listener over LDS). */
export function buildGrpcListener(): Listener {
  const hcm: HttpConnectionManager = {
    stat_prefix: XDS_NAMES.statPrefix,
    rds: { route_config_name: XDS_NAMES.routeConfig, config_source: ADS_SOURCE },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: typedAny('router', {}) }],
  };
  return { name: XDS_NAMES.grpcListener, api_listener: { api_listener: typedAny('hcm', hcm) } };
}

function retryPolicy(): RetryPolicy {
  const previousHosts: PreviousHostsPredicate = {};
  return {
    retry_on: SAFE_RETRY_ON,
    retriable_status_codes: [...RETRIABLE_STATUS_CODES],
    num_retries: { value: 2 },
    retry_back_off: { base_interval: durationMs(25), max_interval: durationMs(250) },
    retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typed_config: typedAny('previousHosts', previousHosts) }],
    host_selection_retry_max_attempts: 3,
  };
}

/** `/<fn>` exactly and `/<fn>/...` by prefix, both rewritten to start at "/". */
export function buildRoutes(spec: FunctionRouteSpec): Route[] {
  const action = () => ({
    cluster: clusterName(spec.name),
    prefix_rewrite: '/',
    timeout: durationMs(spec.timeoutMs),
    retry_policy: retryPolicy(),
  });
  return [
    { name: `${spec.name}-exact`, match: { path: `/${spec.name}` }, route: action() },
    { name: `${spec.name}-prefix`, match: { prefix: `/${spec.name}/` }, route: action() },
  ];
}

/**
 * gRPC C-core NACKs a virtual host without routes ("No route found in the virtual host"),
 * so gRPC clients get this never-matching placeholder while no function exists. It points
 * at a cluster that is never served: matching RPCs fail UNAVAILABLE. (Envoy accepts an
 * empty virtual host and gets no placeholder.)
 */
export const PLACEHOLDER_PATH = '/_faas/no-function';
export const PLACEHOLDER_CLUSTER = '_faas_no_function';

export function buildPlaceholderRoute(): Route {
  return { name: 'no-function', match: { path: PLACEHOLDER_PATH }, route: { cluster: PLACEHOLDER_CLUSTER } };
}

/** One RouteConfiguration for all functions; `routes` are concatenated in the given order. */
export function buildRouteConfiguration(routes: Route[]): RouteConfiguration {
  return {
    name: XDS_NAMES.routeConfig,
    virtual_hosts: [{ name: XDS_NAMES.virtualHost, domains: ['*'], routes }],
  };
}

/** Router-side capacity: in-flight requests above concurrency x healthy instances queue. */
export function circuitCapacity(spec: FunctionRouteSpec): number {
  const healthy = spec.endpoints.filter((e) => e.health === 'HEALTHY').length;
  return spec.concurrency * Math.max(1, healthy);
}

export function buildCluster(spec: FunctionRouteSpec): Cluster {
  const cap = circuitCapacity(spec);
  const leastRequest: LeastRequest = { choice_count: { value: 2 } };
  const roundRobin: RoundRobin = {};
  return {
    name: clusterName(spec.name),
    type: 'EDS',
    eds_cluster_config: { eds_config: ADS_SOURCE },
    connect_timeout: durationMs(1000),
    circuit_breakers: {
      thresholds: [{
        priority: 'DEFAULT',
        max_connections: { value: cap },
        max_requests: { value: cap },
        max_pending_requests: { value: MAX_PENDING_REQUESTS },
        max_retries: { value: 16 },
        track_remaining: true,
      }],
      // With HTTP/1.1 upstreams one connection carries one request at a time, so this caps
      // in-flight requests per instance at its concurrency (Envoy's least_request alone
      // could stack more on one host while another is slow to free up).
      per_host_thresholds: [{ priority: 'DEFAULT', max_connections: { value: spec.concurrency } }],
    },
    // Clients take the first policy they support: Envoy least_request, gRPC round_robin.
    load_balancing_policy: {
      policies: [
        { typed_extension_config: { name: 'envoy.load_balancing_policies.least_request', typed_config: typedAny('leastRequest', leastRequest) } },
        { typed_extension_config: { name: 'envoy.load_balancing_policies.round_robin', typed_config: typedAny('roundRobin', roundRobin) } },
      ],
    },
    // 0: never "panic" into DRAINING hosts (envoy#46800).
    common_lb_config: { healthy_panic_threshold: { value: 0 } },
    // Names the function in the router's own JSON replies (%CLUSTER_METADATA(faas:fn)%).
    metadata: { filter_metadata: { [FN_METADATA.namespace]: { fields: { [FN_METADATA.key]: { stringValue: spec.name } } } } },
  };
}

export function buildClusterLoadAssignment(spec: FunctionRouteSpec): ClusterLoadAssignment {
  const endpoints = [...spec.endpoints].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    cluster_name: clusterName(spec.name),
    // gRPC clients need a locality and its weight; Envoy ignores both here.
    endpoints: endpoints.length === 0 ? [] : [{
      locality: { region: 'local' },
      load_balancing_weight: { value: 1 },
      lb_endpoints: endpoints.map((e) => ({
        endpoint: { address: { socket_address: { address: e.address, port_value: e.port, protocol: 'TCP' } }, hostname: e.id },
        health_status: e.health,
      })),
    }],
  };
}

/** Test-only hooks into the builder, e.g. to inject a resource a client must NACK. */
export interface BuilderHooks {
  transformClusterLoadAssignment?: (fn: string, cla: ClusterLoadAssignment) => ClusterLoadAssignment;
  transformCluster?: (fn: string, cluster: Cluster) => Cluster;
}

/** Everything one function contributes. */
export interface FunctionResources {
  cluster: Cluster;
  cla: ClusterLoadAssignment;
  routes: Route[];
}

export function buildFunctionResources(spec: FunctionRouteSpec, hooks: BuilderHooks = {}): FunctionResources {
  let cluster = buildCluster(spec);
  let cla = buildClusterLoadAssignment(spec);
  if (hooks.transformCluster) cluster = hooks.transformCluster(spec.name, cluster);
  if (hooks.transformClusterLoadAssignment) cla = hooks.transformClusterLoadAssignment(spec.name, cla);
  return { cluster, cla, routes: buildRoutes(spec) };
}
