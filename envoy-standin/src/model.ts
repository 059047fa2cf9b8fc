/** The stand-in's own view of the xDS resources it received, reduced to what it uses. */

export interface ListenerModel {
  name: string;
  address: string;
  port: number;
  /** HCM stat_prefix: downstream stats appear as http.<statPrefix>.* */
  statPrefix: string;
  /** RDS name, or undefined when the routes are inline. */
  routeConfigName: string | undefined;
  inlineRoutes: RouteTable | undefined;
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
  /** Retries for failures before any response byte (connect failure, refused, reset). */
  numRetries: number;
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
  connectTimeoutMs: number;
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
