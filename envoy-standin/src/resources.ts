/**
 * Decoding of xDS resources into the stand-in's model. Pure. Anything the stand-in cannot
 * use throws ResourceError whose message becomes the NACK's error_detail; a route that
 * names an unknown cluster is fine here (Envoy answers 503 at request time).
 */
import * as net from 'node:net';
import { ResourceError } from './errors';
import type {
  ClusterModel, EndpointModel, HealthStatus, ListenerModel, LoadAssignment, PathMatch, RetryOn, RouteModel, RouteTable,
  VirtualHostModel,
} from './model';
import { decodeLocalReplyConfig } from './local-reply';
import { type ProtoObject, TYPE_URLS, type XdsKind } from './protos';

const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const DEFAULT_ROUTE_TIMEOUT_MS = 15_000; // Envoy's RouteAction.timeout default
const DEFAULT_THRESHOLD = 1024; // Envoy's circuit breaker defaults
/** retry_on values that retry any reset before response headers (Envoy counts a reset as a 5xx). */
const RETRY_ON_ANY_RESET = ['reset', '5xx', 'gateway-error'];

function isObj(v: unknown): v is ProtoObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function fail(where: string, msg: string): never {
  throw new ResourceError(`${where}: ${msg}`, { where });
}
function reqStr(o: ProtoObject, field: string, where: string): string {
  const v = o[field];
  if (typeof v !== 'string' || v === '') fail(where, `field "${field}" is required`);
  return v;
}
function list(o: ProtoObject, field: string): unknown[] {
  const v = o[field];
  return Array.isArray(v) ? v : [];
}
function durationMs(v: unknown): number | undefined {
  if (!isObj(v)) return undefined;
  return Number(v.seconds ?? 0) * 1000 + Math.round(Number(v.nanos ?? 0) / 1e6);
}
function u32(v: unknown): number | undefined {
  return isObj(v) && v.value !== undefined && v.value !== null ? Number(v.value) : undefined;
}

/** The decoded Any must be of the response's type (protobufjs leaves unknown types undecoded). */
export function checkAny(res: unknown, typeUrl: string, where: string): ProtoObject {
  if (!isObj(res)) fail(where, 'resource missing');
  const t = res['@type'];
  if (typeof t !== 'string') {
    fail(where, `cannot decode resource of type "${String(res.type_url ?? '')}" (not a type envoy-standin knows)`);
  }
  if (t !== typeUrl) fail(where, `resource type "${t}" does not match the response type_url "${typeUrl}"`);
  return res;
}

function socketAddress(addr: unknown, where: string): { address: string; port: number } {
  if (!isObj(addr) || !isObj(addr.socket_address)) fail(where, 'address.socket_address is required');
  const sa = addr.socket_address;
  const address = reqStr(sa, 'address', `${where}.socket_address`);
  const port = Number(sa.port_value ?? 0);
  if (sa.port_specifier !== undefined && sa.port_specifier !== 'port_value') fail(where, 'only socket_address.port_value is supported');
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(where, `port_value ${String(sa.port_value)} out of range`);
  return { address, port };
}

export function decodeListener(res: ProtoObject): ListenerModel {
  const name = reqStr(res, 'name', 'Listener');
  const where = `Listener "${name}"`;
  if (isObj(res.api_listener)) fail(where, 'api_listener can only be set in the bootstrap, not over LDS');
  const { address, port } = socketAddress(res.address, `${where}.address`);
  if (net.isIP(address) === 0) fail(`${where}.address`, `"${address}" is not an IP address`);
  if (port === 0) fail(`${where}.address`, 'port_value is required');
  const chains = list(res, 'filter_chains');
  if (chains.length === 0) fail(where, 'filter_chains is empty');
  let hcm: ProtoObject | undefined;
  for (const chain of chains) {
    for (const f of isObj(chain) ? list(chain, 'filters') : []) {
      if (isObj(f) && isObj(f.typed_config)) {
        const tc = f.typed_config;
        if (tc['@type'] === HCM_TYPE) hcm = tc;
        else if (typeof tc['@type'] !== 'string') fail(`${where} filter "${String(f.name)}"`, `cannot decode typed_config of type "${String(tc.type_url ?? '')}"`);
      }
    }
  }
  if (!hcm) fail(where, 'no envoy.filters.network.http_connection_manager filter');
  const statPrefix = reqStr(hcm, 'stat_prefix', `${where} HttpConnectionManager`);
  for (const hf of list(hcm, 'http_filters')) {
    if (isObj(hf) && isObj(hf.typed_config) && typeof hf.typed_config['@type'] !== 'string' && hf.is_optional !== true) {
      fail(`${where} http filter "${String(hf.name)}"`, `cannot decode typed_config of type "${String(hf.typed_config.type_url ?? '')}"`);
    }
  }
  const localReply = decodeLocalReplyConfig(hcm.local_reply_config, `${where} HttpConnectionManager.local_reply_config`);
  if (hcm.route_specifier === 'rds' && isObj(hcm.rds)) {
    const routeConfigName = reqStr(hcm.rds, 'route_config_name', `${where} HttpConnectionManager.rds`);
    return { name, address, port, statPrefix, routeConfigName, inlineRoutes: undefined, localReply };
  }
  if (hcm.route_specifier === 'route_config' && isObj(hcm.route_config)) {
    return { name, address, port, statPrefix, routeConfigName: undefined, inlineRoutes: decodeRouteTable(hcm.route_config), localReply };
  }
  return fail(`${where} HttpConnectionManager`, 'needs rds or route_config');
}

/** Envoy retry_on (comma separated) reduced to the pre-response failures the stand-in retries. */
export function decodeRetryOn(retryOn: string, retriableStatusCodes: readonly number[] = []): RetryOn {
  const on = retryOn.split(',').map((s) => s.trim());
  const anyReset = on.some((c) => RETRY_ON_ANY_RESET.includes(c));
  const resetBeforeRequest = anyReset || on.includes('reset-before-request');
  const statusCodes = on.includes('retriable-status-codes') ? retriableStatusCodes : [];
  return { connectFailure: resetBeforeRequest || on.includes('connect-failure'), resetBeforeRequest, anyReset, statusCodes };
}

const NO_RETRY: RetryOn = { connectFailure: false, resetBeforeRequest: false, anyReset: false, statusCodes: [] };

function decodeMatch(m: unknown, where: string): PathMatch {
  if (!isObj(m)) fail(where, 'match is required');
  const cs = isObj(m.case_sensitive) ? m.case_sensitive.value !== false : true;
  switch (m.path_specifier) {
    case 'prefix': return { kind: 'prefix', value: String(m.prefix ?? ''), caseSensitive: cs };
    case 'path': return { kind: 'path', value: String(m.path ?? ''), caseSensitive: cs };
    case 'safe_regex': {
      const re = isObj(m.safe_regex) ? String(m.safe_regex.regex ?? '') : '';
      try {
        return { kind: 'regex', regex: new RegExp(`^(?:${re})$`) };
      } catch (err) {
        return fail(where, `invalid safe_regex: ${(err as Error).message}`);
      }
    }
    default: return fail(where, `path matcher "${String(m.path_specifier)}" is not supported by envoy-standin (use prefix, path or safe_regex)`);
  }
}

function decodeRoute(r: unknown, where: string): RouteModel {
  if (!isObj(r)) fail(where, 'route missing');
  const name = typeof r.name === 'string' ? r.name : '';
  const match = decodeMatch(r.match, where);
  if (r.action !== 'route' || !isObj(r.route)) fail(where, `action "${String(r.action)}" is not supported by envoy-standin (only route)`);
  const a = r.route;
  if (a.cluster_specifier !== 'cluster') fail(where, `cluster_specifier "${String(a.cluster_specifier)}" is not supported (only cluster)`);
  const cluster = reqStr(a, 'cluster', `${where}.route`);
  const prefixRewrite = typeof a.prefix_rewrite === 'string' && a.prefix_rewrite !== '' ? a.prefix_rewrite : undefined;
  const t = durationMs(a.timeout);
  const timeoutMs = t === undefined ? DEFAULT_ROUTE_TIMEOUT_MS : t;
  let numRetries = 0;
  let retryOn = NO_RETRY;
  if (isObj(a.retry_policy)) {
    const codes = Array.isArray(a.retry_policy.retriable_status_codes) ? a.retry_policy.retriable_status_codes.map(Number).filter(Number.isInteger) : [];
    retryOn = decodeRetryOn(String(a.retry_policy.retry_on ?? ''), codes);
    if (retryOn.connectFailure) numRetries = u32(a.retry_policy.num_retries) ?? 1;
  }
  return { name, match, cluster, prefixRewrite, timeoutMs, numRetries, retryOn };
}

export function decodeRouteTable(res: ProtoObject): RouteTable {
  const name = reqStr(res, 'name', 'RouteConfiguration');
  const virtualHosts: VirtualHostModel[] = list(res, 'virtual_hosts').map((vh, i) => {
    const where = `RouteConfiguration "${name}" virtual_hosts[${i}]`;
    if (!isObj(vh)) fail(where, 'missing');
    const domains = list(vh, 'domains').map(String);
    if (domains.length === 0) fail(where, 'domains is empty');
    const routes = list(vh, 'routes').map((r, j) => decodeRoute(r, `${where}.routes[${j}]`));
    return { name: String(vh.name ?? ''), domains: domains.map((d) => d.toLowerCase()), routes };
  });
  return { name, virtualHosts };
}

export function decodeCluster(res: ProtoObject): ClusterModel {
  const name = reqStr(res, 'name', 'Cluster');
  const where = `Cluster "${name}"`;
  const type = res.cluster_discovery_type === 'type' ? String(res.type) : 'EDS';
  let edsServiceName: string | undefined;
  let staticEndpoints: EndpointModel[] | undefined;
  if (type === 'EDS') {
    const cfg = isObj(res.eds_cluster_config) ? res.eds_cluster_config : {};
    edsServiceName = typeof cfg.service_name === 'string' && cfg.service_name !== '' ? cfg.service_name : name;
  } else if (type === 'STATIC') {
    if (!isObj(res.load_assignment)) fail(where, 'STATIC cluster needs load_assignment');
    staticEndpoints = decodeLoadAssignment({ ...res.load_assignment, cluster_name: name }).endpoints;
  } else {
    fail(where, `cluster type ${type} is not supported by envoy-standin (EDS or STATIC)`);
  }
  let maxRequests = DEFAULT_THRESHOLD;
  let maxConnections = DEFAULT_THRESHOLD;
  let maxPendingRequests = DEFAULT_THRESHOLD;
  let maxRequestsPerHost = Infinity;
  if (isObj(res.circuit_breakers)) {
    const th = list(res.circuit_breakers, 'thresholds').find((t) => isObj(t) && (t.priority === 'DEFAULT' || t.priority === undefined || t.priority === null));
    if (isObj(th)) {
      maxRequests = u32(th.max_requests) ?? maxRequests;
      maxConnections = u32(th.max_connections) ?? maxConnections;
      maxPendingRequests = u32(th.max_pending_requests) ?? maxPendingRequests;
    }
    // Envoy supports only max_connections per host.
    const ph = list(res.circuit_breakers, 'per_host_thresholds').find((t) => isObj(t) && (t.priority === 'DEFAULT' || t.priority === undefined || t.priority === null));
    if (isObj(ph)) maxRequestsPerHost = u32(ph.max_connections) ?? maxRequestsPerHost;
  }
  if (maxRequestsPerHost < 1) fail(where, 'per_host_thresholds max_connections must be at least 1');
  return {
    name, edsServiceName, staticEndpoints,
    // HTTP/1.1: one request per connection, so the connection cap also caps requests.
    maxRequests: Math.min(maxRequests, maxConnections),
    maxPendingRequests,
    maxRequestsPerHost,
    connectTimeoutMs: durationMs(res.connect_timeout) ?? 5000,
    metadata: decodeFilterMetadata(res.metadata),
  };
}

/** Cluster metadata.filter_metadata: namespace -> string fields (other kinds are skipped). */
function decodeFilterMetadata(md: unknown): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  const fm = isObj(md) && isObj(md.filter_metadata) ? md.filter_metadata : {};
  for (const [ns, st] of Object.entries(fm)) {
    const rec: Record<string, string> = {};
    const fields = isObj(st) && isObj(st.fields) ? st.fields : {};
    for (const [k, v] of Object.entries(fields)) {
      const s = isObj(v) ? v.stringValue ?? v.string_value : undefined;
      if (typeof s === 'string') rec[k] = s;
    }
    out.set(ns, rec);
  }
  return out;
}

const HEALTH: ReadonlySet<string> = new Set(['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED']);

export function decodeLoadAssignment(res: ProtoObject): LoadAssignment {
  const clusterName = reqStr(res, 'cluster_name', 'ClusterLoadAssignment');
  const endpoints: EndpointModel[] = [];
  list(res, 'endpoints').forEach((loc, i) => {
    if (!isObj(loc)) return;
    list(loc, 'lb_endpoints').forEach((lb, j) => {
      const where = `ClusterLoadAssignment "${clusterName}" endpoints[${i}].lb_endpoints[${j}]`;
      if (!isObj(lb) || !isObj(lb.endpoint)) fail(where, 'endpoint is required');
      const { address, port } = socketAddress(lb.endpoint.address, `${where}.endpoint.address`);
      if (net.isIP(address) === 0) fail(`${where}.endpoint`, `address "${address}" is not an IP address`);
      if (port === 0) fail(`${where}.endpoint`, 'port_value is required');
      const h = String(lb.health_status ?? 'UNKNOWN');
      endpoints.push({ address, port, health: (HEALTH.has(h) ? h : 'UNKNOWN') as HealthStatus });
    });
  });
  return { clusterName, endpoints };
}

export type DecodedResource =
  | { kind: 'listener'; name: string; value: ListenerModel }
  | { kind: 'route'; name: string; value: RouteTable }
  | { kind: 'cluster'; name: string; value: ClusterModel }
  | { kind: 'endpoint'; name: string; value: LoadAssignment };

/** Check the Any's type and decode; throws ResourceError. */
export function decodeResource(kind: XdsKind, res: unknown, where: string): DecodedResource {
  const o = checkAny(res, TYPE_URLS[kind], where);
  try {
    switch (kind) {
      case 'listener': { const v = decodeListener(o); return { kind, name: v.name, value: v }; }
      case 'route': { const v = decodeRouteTable(o); return { kind, name: v.name, value: v }; }
      case 'cluster': { const v = decodeCluster(o); return { kind, name: v.name, value: v }; }
      case 'endpoint': { const v = decodeLoadAssignment(o); return { kind, name: v.clusterName, value: v }; }
    }
  } catch (err) {
    if (err instanceof ResourceError) throw new ResourceError(`${where}: ${err.message}`, err.context);
    throw err;
  }
}
