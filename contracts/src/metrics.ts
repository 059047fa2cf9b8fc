/**
 * Metric names. Envoy's (what the statsd-listener reads, what the Envoy stand-in emits)
 * and the platform's own (emitted with hot-shots).
 */

import { z } from 'zod';

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
 * The per-function metrics hash in Redis (RedisKeys.metrics(fn)), written by the statsd-listener
 * once per window (1 s; Envoy flushes every 250 ms) for every defined function. Gauges are summed over
 * the routers that reported recently; counters are per window. Redis hash values are strings, so
 * the schema coerces; readers use parseFunctionMetrics and never trust the hash blindly.
 */
export const FunctionMetricsSchema = z.object({
  /** Sum over routers of upstream_rq_active (requests inside instances). */
  rqActive: z.coerce.number().nonnegative(),
  /** Sum over routers of upstream_rq_pending_active (queued in the routers). */
  rqPendingActive: z.coerce.number().nonnegative(),
  /** upstream_rq_total per second over the last window. */
  rqPerSecond: z.coerce.number().nonnegative(),
  /** upstream_rq_pending_overflow in the last window (load shed by a router). */
  pendingOverflow: z.coerce.number().nonnegative(),
  /** upstream_cx_none_healthy in the last window (traffic with no healthy endpoint). */
  noneHealthy: z.coerce.number().nonnegative(),
  /** Median and p99 of upstream_rq_time in the last window, ms; -1 when no sample. */
  latencyMedianMs: z.coerce.number().min(-1).default(-1),
  latencyP99Ms: z.coerce.number().min(-1).default(-1),
  /** Routers that reported within the staleness bound. */
  routers: z.coerce.number().int().nonnegative(),
  /** Length of the window the counters cover, ms. */
  windowMs: z.coerce.number().positive().default(1000),
  /** Epoch ms of the window's end. */
  updatedAt: z.coerce.number().nonnegative(),
});
export type FunctionMetrics = z.infer<typeof FunctionMetricsSchema>;

/** Parse a metrics hash read from Redis; undefined when missing or malformed. */
export function parseFunctionMetrics(hash: Record<string, string> | null | undefined): FunctionMetrics | undefined {
  if (!hash || Object.keys(hash).length === 0) return undefined;
  const r = FunctionMetricsSchema.safeParse(hash);
  return r.success ? r.data : undefined;
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
