/**
 * Metric names. Envoy's (what the statsd-listener reads, what the Envoy stand-in emits)
 * and the platform's own (emitted with hot-shots).
 */

/** Prefix Envoy's statsd sink puts before every stat (StatsdSink.prefix default). */
export const ENVOY_STATSD_PREFIX = 'envoy';

/** Per-cluster Envoy stats, under `cluster.<cluster>.`. */
export const ENVOY_CLUSTER_STATS = {
  rqActive: 'upstream_rq_active', // gauge: in-flight requests
  rqPendingActive: 'upstream_rq_pending_active', // gauge: queued in the router
  rqTotal: 'upstream_rq_total', // counter (delta per flush)
  rqPendingOverflow: 'upstream_rq_pending_overflow', // counter: load shed
  cxNoneHealthy: 'upstream_cx_none_healthy', // counter: traffic with no healthy endpoint
  rqTime: 'upstream_rq_time', // ms timer, one sample per request
  rqTimeout: 'upstream_rq_timeout', // counter
  rq5xx: 'upstream_rq_5xx', // counter
  rq2xx: 'upstream_rq_2xx', // counter
  membershipHealthy: 'membership_healthy', // gauge
  membershipTotal: 'membership_total', // gauge
} as const;

/** Full Envoy stat name (without the statsd prefix) of a cluster stat. */
export function envoyClusterStat(cluster: string, stat: string): string {
  return `cluster.${cluster}.${stat}`;
}

/**
 * Fields of the per-function metrics hash in Redis (RedisKeys.metrics(fn)), written by
 * the statsd-listener on every flush window. Gauges are summed over routers.
 */
export interface FunctionMetrics {
  /** Sum over routers of upstream_rq_active. */
  rqActive: number;
  /** Sum over routers of upstream_rq_pending_active. */
  rqPendingActive: number;
  /** upstream_rq_total per second over the last window. */
  rqPerSecond: number;
  /** upstream_rq_pending_overflow in the last window. */
  pendingOverflow: number;
  /** upstream_cx_none_healthy in the last window. */
  noneHealthy: number;
  /** Routers that reported in the last window. */
  routers: number;
  /** Epoch ms of the window's end. */
  updatedAt: number;
}

/** The platform's own statsd metrics (prefix `faas.`). */
export const PLATFORM_METRICS = {
  coldStartMs: 'faas.orchestrator.cold_start_ms',
  containerStartMs: 'faas.orchestrator.container_start_ms',
  readinessMs: 'faas.orchestrator.readiness_ms',
  routeAckMs: 'faas.orchestrator.route_ack_ms',
  instances: 'faas.orchestrator.instances',
  statsdMalformed: 'faas.statsd.malformed',
} as const;
