/** The stand-in's own view of the xDS resources it received, reduced to what it uses. */
import type { LocalReplyConfig } from './local-reply';

export interface ListenerModel {
  name: string;
  address: string;
  port: number;
  /** HCM stat_prefix: downstream stats appear as http.<statPrefix>.* */
  statPrefix: string;
  /** RDS name, or undefined when the routes are inline. */
  routeConfigName: string | undefined;
  inlineRoutes: RouteTable | undefined;
  /** HCM local_reply_config: how the stand-in's own replies look (status, headers, body). */
  localReply: LocalReplyConfig;
}

/**
 * Envoy response flags of the stand-in's own replies: NR no route, NC no cluster, UH no
 * healthy upstream, UO pending overflow, UF connect failure, UC upstream connection
 * termination, URX retries exhausted, UT upstream request timeout, DPE downstream protocol error.
 */
export type ResponseFlag = 'NR' | 'NC' | 'UH' | 'UO' | 'UF' | 'UC' | 'URX' | 'UT' | 'DPE';

/**
 * Which pre-response failures a route retries (Envoy retry_on). Responses are never retried:
 * 5xx/gateway-error retries of answered requests are not modelled.
 */
export interface RetryOn {
  /** connect-failure (also implied by 5xx, gateway-error, reset): the connection never opened. */
  connectFailure: boolean;
  /** reset-before-request: the upstream reset before any byte of the request was written to it. */
  resetBeforeRequest: boolean;
  /** reset, 5xx, gateway-error: any reset before response headers (may replay a received request). */
  anyReset: boolean;
  /**
   * retriable-status-codes: these statuses, when answered without 100 Continue (the runtime
   * refused the request before its handler), are retried like a reset before the request.
   */
  statusCodes: readonly number[];
}

export type PathMatch =
  | { kind: 'prefix'; value: string; caseSensitive: boolean }
  | { kind: 'path'; value: string; caseSensitive: boolean }
  | { kind: 'regex'; regex: RegExp };

export interface RouteModel {
  name: string;
  match: PathMatch;
  cluster: string;
  /** Replaces the matched prefix (or whole path for a path match) when set. */
  prefixRewrite: string | undefined;
  /** Whole-request timeout, 0 = none. */
  timeoutMs: number;
  /** Retries for the failures `retryOn` names; 0 = none. */
  numRetries: number;
  retryOn: RetryOn;
}

export interface VirtualHostModel {
  name: string;
  domains: string[];
  routes: RouteModel[];
}

export interface RouteTable {
  name: string;
  virtualHosts: VirtualHostModel[];
}

export interface ClusterModel {
  name: string;
  /** Name of the ClusterLoadAssignment to ask for over EDS. Undefined for STATIC clusters. */
  edsServiceName: string | undefined;
  /** Inline endpoints of a STATIC cluster. */
  staticEndpoints: EndpointModel[] | undefined;
  /** In-flight requests allowed: min(max_requests, max_connections) of the DEFAULT threshold. */
  maxRequests: number;
  maxPendingRequests: number;
  /**
   * In-flight requests allowed per host: circuit_breakers.per_host_thresholds max_connections
   * (HTTP/1.1 upstreams: one connection carries one request). Infinity when not set.
   */
  maxRequestsPerHost: number;
  connectTimeoutMs: number;
  /** metadata.filter_metadata with string values only (for %CLUSTER_METADATA(ns:key)%). */
  metadata: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

export type HealthStatus = 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED';

export interface EndpointModel {
  address: string;
  port: number;
  health: HealthStatus;
}

export interface LoadAssignment {
  clusterName: string;
  endpoints: EndpointModel[];
}
