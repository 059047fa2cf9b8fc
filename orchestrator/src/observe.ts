/**
 * Observation of one function for a tick, pure: router metrics (statsd-listener's `metrics:<fn>`)
 * and the runtimes' own in-flight counts become a DemandSample and the autoscaler's ScaleSignals.
 */
import type { FunctionMetrics } from '@faas/contracts';
import type { DemandSample, ScaleSignals } from './autoscaler/types';
import type { Instance } from './instance-set';

/** Router metrics older than this many windows are stale (statsd-listener stopped or lost). */
const STALE_WINDOWS = 3;

export function metricsFresh(m: FunctionMetrics | undefined, now: number): m is FunctionMetrics {
  return m !== undefined && m.routers > 0 && now - m.updatedAt <= STALE_WINDOWS * m.windowMs;
}

export function demandSample(m: FunctionMetrics | undefined, instances: readonly Instance[], now: number): DemandSample {
  const fresh = metricsFresh(m, now);
  const runtimeInflight = instances.reduce((n, i) => n + (i.stats?.inflight ?? 0), 0);
  return {
    at: now,
    inflight: Math.max(fresh ? m.rqActive : 0, runtimeInflight),
    pending: fresh ? m.rqPendingActive : 0,
  };
}

/** Epoch ms of the last sign of traffic on any instance (now while one is busy). */
export function lastInstanceActivity(instances: readonly Instance[], now: number): number {
  let last = 0;
  for (const i of instances) {
    if (!i.stats) continue;
    last = Math.max(last, i.stats.inflight > 0 ? now : now - i.stats.idleMs);
  }
  return last;
}

export interface ObserveInput {
  now: number;
  metrics: FunctionMetrics | undefined;
  instances: readonly Instance[];
  /** Samples kept from earlier ticks, oldest first. */
  history: readonly DemandSample[];
  windowMs: number;
  lastWakeAt: number;
  /** Wakes received since the function was last routable. */
  waking: number;
}

export function observe(input: ObserveInput): { signals: ScaleSignals; history: DemandSample[] } {
  const { now, metrics } = input;
  const sample = demandSample(metrics, input.instances, now);
  const history = [...input.history.filter((s) => s.at > now - input.windowMs), sample];
  const fresh = metricsFresh(metrics, now);
  return {
    history,
    signals: {
      now,
      samples: history,
      overflow: fresh ? metrics.pendingOverflow : 0,
      noneHealthy: fresh ? metrics.noneHealthy : 0,
      routerMetricsFresh: fresh,
      lastActivityAt: Math.max(input.lastWakeAt, lastInstanceActivity(input.instances, now)),
      waking: input.waking,
    },
  };
}
