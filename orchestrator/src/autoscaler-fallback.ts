/**
 * Stand-in for autoscaler/decide.ts (written on another branch) so this branch builds and runs:
 * ceil((inflight + pending) / targetConcurrency) over the panic window's busiest sample, bounded by
 * min/max, scale to zero only after idle_timeout. The lead switches main.ts's import to
 * `./autoscaler/decide` at merge; the controller only knows the DecideScale type.
 */
import type { ScalingSettings } from '@faas/contracts';
import type { AutoscalerState, DecideScale, InstanceCensus, ScaleDecision, ScaleReason, ScaleSignals } from './autoscaler/types';

export const fallbackDecideScale: DecideScale = (
  settings: ScalingSettings, signals: ScaleSignals, census: InstanceCensus, state: AutoscalerState,
): ScaleDecision => {
  const current = census.ready + census.starting;
  const recent = signals.samples.filter((s) => s.at > signals.now - settings.panicWindowMs);
  const demand = Math.max(0, ...recent.map((s) => s.inflight + s.pending));
  const per = Math.max(1, settings.targetConcurrency);
  const idleMs = signals.now - signals.lastActivityAt;
  let desired = Math.ceil(demand / per);
  let reason: ScaleReason = 'stable_demand';
  if (signals.waking > 0) {
    desired = Math.max(desired, Math.ceil(signals.waking / per), 1);
    if (current === 0) reason = 'wake';
  }
  if (signals.overflow > 0 || signals.noneHealthy > 0) {
    desired = Math.max(desired, current + 1);
    reason = 'overflow';
  }
  if (desired === 0 && current > 0 && idleMs < settings.idleTimeoutMs) desired = 1;
  if (desired === 0 && current > 0) reason = 'idle';
  if (desired < current && !signals.routerMetricsFresh && signals.samples.length > 0 && reason !== 'idle') {
    desired = current;
    reason = 'stale_metrics';
  }
  if (desired > settings.maxInstances) {
    desired = settings.maxInstances;
    reason = 'max_instances';
  }
  if (desired < settings.minInstances) {
    desired = settings.minInstances;
    reason = 'min_instances';
  }
  if (desired === current && reason !== 'max_instances' && reason !== 'min_instances') reason = 'steady';
  return {
    desired, reason, panic: false,
    inputs: { stableDemand: demand, panicDemand: demand, capacityPerInstance: per, current, idleMs },
    next: state,
  };
};

export interface DrainCandidate {
  id: string;
  inflight: number;
  idleMs: number;
}

/** The `count` least-busy instances: fewest in flight, then longest idle, then id. Pure. */
export function chooseDrain(candidates: readonly DrainCandidate[], count: number): string[] {
  return [...candidates]
    .sort((a, b) => a.inflight - b.inflight || b.idleMs - a.idleMs || a.id.localeCompare(b.id))
    .slice(0, Math.max(0, count))
    .map((c) => c.id);
}
