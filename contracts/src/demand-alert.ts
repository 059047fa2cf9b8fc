/**
 * Demand alerts: the event-driven path of scale-up. The statsd-listener publishes one on
 * RedisKeys.demandChannel as soon as a router reports requests queued for a function (or load
 * shed, or no healthy upstream), without waiting for its window to close; the orchestrator runs
 * that function's tick at once with these figures. At most one alert per function per
 * DEMAND_ALERT_MIN_INTERVAL_MS (the listener's STATSD_ALERT_INTERVAL_MS). The fixed-cadence
 * `metrics:<fn>` hash stays the autoscaler's window input; an alert only brings a decision forward.
 */
import { z } from 'zod';
import { FunctionMetricsSchema } from './metrics';

export const DEMAND_ALERT_REASONS = ['pending', 'overflow', 'none_healthy'] as const;
export const DemandAlertReasonSchema = z.enum(DEMAND_ALERT_REASONS);
export type DemandAlertReason = z.infer<typeof DemandAlertReasonSchema>;

/** Default lower bound between two alerts of one function, ms. */
export const DEMAND_ALERT_MIN_INTERVAL_MS = 250;

export const DemandAlertSchema = z.object({
  fn: z.string().min(1).max(200),
  reason: DemandAlertReasonSchema,
  /**
   * The function's figures when the alert was sent: gauges summed over the routers that report
   * it, counters of the window so far (so `rqPerSecond` and the latencies cover part of a window);
   * `updatedAt` is the time of the alert.
   */
  metrics: FunctionMetricsSchema,
});
export type DemandAlert = z.infer<typeof DemandAlertSchema>;

/** A pub/sub payload: JSON text whose value is a DemandAlert. */
const DemandAlertJsonSchema = z.string().transform((raw, ctx): unknown => {
  try {
    return JSON.parse(raw);
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'not JSON' }); // reported as a failed parse
    return z.NEVER;
  }
}).pipe(DemandAlertSchema);

/** Parse a raw pub/sub payload; undefined when it is not JSON or not a DemandAlert. */
export function parseDemandAlert(raw: string): DemandAlert | undefined {
  const r = DemandAlertJsonSchema.safeParse(raw);
  return r.success ? r.data : undefined;
}
