/**
 * HTTP API of the xds-server used by the orchestrator (JSON over HTTP, express).
 *
 *   PUT    /v1/functions/:name?wait_ms=N   body FunctionRouteSpec  -> 200 RolloutResult | 4xx/5xx ControlApiError
 *   DELETE /v1/functions/:name?wait_ms=N                           -> 200 RolloutResult | ControlApiError
 *   GET    /v1/functions                                           -> { functions: FunctionRouteSpec[] }
 *   GET    /v1/routers                                             -> { routers: RouterStatus[] }
 *   GET    /healthz                                                -> 200 { ok: true }
 *
 * Every /v1 call carries `authorization: Bearer <token>` (internal-auth.ts); without it:
 * 401 {"error":"unauthorized","message"}. /healthz needs no token.
 *
 * A PUT or DELETE returns only once every connected router has ACKed the versions that
 * carry the change, in make-before-break order (cluster, endpoints, then route on add;
 * route, then cluster on remove). wait_ms bounds that wait (default 10000).
 */

export type EndpointHealth = 'HEALTHY' | 'DRAINING';

export interface EndpointSpec {
  /** Instance id (container label faas.instance). */
  id: string;
  /** IP literal: Envoy EDS needs IPs, never host names. */
  address: string;
  port: number;
  health: EndpointHealth;
}

/** Desired router state of one function. */
export interface FunctionRouteSpec {
  name: string;
  /** Whole-request timeout in the router, ms. */
  timeoutMs: number;
  /** Per-instance concurrency: router circuit breakers are sized from it. */
  concurrency: number;
  endpoints: EndpointSpec[];
}

export type XdsTypeName = 'listener' | 'route' | 'cluster' | 'endpoint';

export interface RouterTypeStatus {
  type: XdsTypeName;
  typeUrl: string;
  sentVersion: string | null;
  ackedVersion: string | null;
  nacked: { version: string; message: string; at: number } | null;
  resourceCount: number;
}

export interface RouterStatus {
  nodeId: string;
  userAgent: string;
  /** 'sotw' or 'delta' ADS stream. */
  protocol: 'sotw' | 'delta';
  connectedAt: number;
  types: RouterTypeStatus[];
}

export interface RolloutResult {
  fn: string;
  /**
   * Version per type that every connected router ACKed.
   * Clarification: versions are numbered per router stream (the xds-server gives each
   * response its own version_info, as shown per router by GET /v1/routers), so a type is
   * present only when all routers in `routers` had ACKed the same version when the wait
   * completed (always the case with a single router, e.g. one Envoy); otherwise it is
   * left out. Each router's own ACKed versions: GET /v1/routers.
   */
  versions: Partial<Record<XdsTypeName, string>>;
  /**
   * The target snapshot's version per type (`<epoch>-<generation>`, changes when that
   * type's content changes), whether or not the call waited. With wait_ms=0, `versions`
   * is empty and only this is set.
   */
  snapshotVersions: Record<XdsTypeName, string>;
  routers: string[];
  elapsedMs: number;
}

export type ControlApiErrorCode =
  | 'invalid_request'
  | 'not_found'
  | 'nacked'
  | 'ack_timeout'
  | 'no_router'
  /** An unexpected server fault (a bug): the message says what failed. */
  | 'internal';

export interface ControlApiError {
  error: ControlApiErrorCode;
  message: string;
  /** For 'nacked': the router and its error text. */
  router?: string;
  detail?: string;
  /** For 'ack_timeout': routers that had not ACKed. */
  pending?: string[];
}
