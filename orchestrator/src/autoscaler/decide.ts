/**
 * The autoscaler's decision (see types.ts for the contract). Pure and allocation-light: one
 * backward pass over the samples, no clock, no I/O; the controller calls it once per tick per
 * function. The model is Knative's KPA (pkg/autoscaler/scaling), in this order:
 *   1. demand = in-flight + pending, averaged over the stable and the panic window;
 *      wanted = ceil(demand / (target_concurrency × target_utilization));
 *   2. panic when panic-window demand >= panic_threshold × capacity of the ready instances, or
 *      when the newest sample saturates them (demand >= ready × target_concurrency: the next
 *      request queues in the router); it lasts until a whole stable window passed without
 *      either and the stable window wants at least what the newest sample needs; it never
 *      scales down; saturation wants enough instances for the newest sample
 *      at once (with target_utilization < 1 that is at least one more: pre-warming);
 *   3. rates: at most ceil(max(1, ready) × max_scale_up_rate) instances, at least
 *      floor(current / max_scale_down_rate);
 *   4. idle (no activity for idle_timeout): straight to min_instances (zero when min is 0);
 *      not idle: never below one instance, so only idleness takes a function to zero, and
 *      never down to a count the newest sample would saturate (no down-then-up);
 *   5. floors that act at once: overflow / no healthy upstream (one more instance than ready,
 *      unless some are already starting) and held wakes (enough instances for them, at least 1);
 *   6. scale_down_delay: the maximum recommendation of the last scale_down_delay;
 *   7. missing data (stale router metrics, or no sample at all): never below current;
 *   8. [min_instances, max_instances].
 */
import type { ScalingSettings } from '@faas/contracts';
import type { AutoscalerState, DecideScale, InstanceCensus, ScaleDecision, ScaleReason, ScaleSignals } from './types';

const NO_RECENT: AutoscalerState['recent'] = [];

interface WindowDemand {
  stable: number;
  panic: number;
  /** Samples inside the stable window; 0 means no data. */
  count: number;
  panicCount: number;
}

/** Averages demand over both windows in one pass from the newest sample back. */
function windowDemand(samples: ScaleSignals['samples'], now: number, stableMs: number, panicMs: number): WindowDemand {
  let sum = 0;
  let count = 0;
  let panicSum = 0;
  let panicCount = 0;
  for (let i = samples.length - 1; i >= 0; i--) {
    const s = samples[i]!;
    const age = now - s.at;
    if (age >= stableMs) break; // oldest first: everything before is older still
    if (age < 0) continue; // from the future (clock skew between ticks): ignore
    const d = s.inflight + s.pending;
    sum += d;
    count++;
    if (age < panicMs) {
      panicSum += d;
      panicCount++;
    }
  }
  return { stable: count > 0 ? sum / count : 0, panic: panicCount > 0 ? panicSum / panicCount : 0, count, panicCount };
}

const wanted = (demand: number, perInstance: number): number => Math.max(0, Math.ceil(demand / perInstance - 1e-9));

/** Demand of the newest sample; 0 unless it is inside the panic window (an old one never counts). */
function newestDemand(samples: ScaleSignals['samples'], now: number, panicMs: number): number {
  const s = samples[samples.length - 1];
  return s === undefined || s.at > now || now - s.at >= panicMs ? 0 : s.inflight + s.pending;
}

interface PanicStep {
  panicking: boolean;
  panicSince: number | undefined;
}

/**
 * Knative's panic mode: entered (or extended) whenever over the threshold, left a stable window
 * later, and not while the stable window still lags the present demand (`lagging`): leaving
 * then would drop instances the newest sample needs and start them again a few ticks later.
 */
function panicStep(over: boolean, lagging: boolean, state: AutoscalerState, now: number, stableMs: number): PanicStep {
  if (over) return { panicking: true, panicSince: now };
  if (state.panicSince !== undefined && (now - state.panicSince < stableMs || lagging)) return { panicking: true, panicSince: state.panicSince };
  return { panicking: false, panicSince: undefined };
}

/** Records this tick's recommendation and returns the maximum over scale_down_delay. */
function delayed(recent: AutoscalerState['recent'], now: number, delayMs: number, desired: number): { max: number; recent: AutoscalerState['recent'] } {
  if (delayMs <= 0) return { max: desired, recent: NO_RECENT };
  const kept: { at: number; desired: number }[] = [];
  let max = desired;
  for (const r of recent) {
    if (now - r.at >= delayMs || r.at > now) continue;
    kept.push(r);
    if (r.desired > max) max = r.desired;
  }
  kept.push({ at: now, desired });
  return { max, recent: kept };
}

export const decideScale: DecideScale = (settings: ScalingSettings, signals: ScaleSignals, census: InstanceCensus, state: AutoscalerState): ScaleDecision => {
  const { now } = signals;
  const current = census.ready + census.starting;
  const perInstance = settings.targetConcurrency * settings.targetUtilization;
  const w = windowDemand(signals.samples, now, settings.stableWindowMs, settings.panicWindowMs);
  const idleMs = Math.max(0, now - signals.lastActivityAt);
  const idle = idleMs >= settings.idleTimeoutMs;
  const missingData = !signals.routerMetricsFresh || w.count === 0;

  // 1. What the windows want (the epsilon keeps 7 / (10 × 0.7) from becoming 2 by float error).
  const stableWant = wanted(w.stable, perInstance);
  const panicWant = wanted(w.panic, perInstance);

  // 3. Rate bounds (Knative: relative to the ready pods, never below 1 so a cold function can burst).
  const maxUp = Math.max(current, Math.ceil(Math.max(1, census.ready) * settings.maxScaleUpRate));
  const minDown = Math.floor(current / settings.maxScaleDownRate);
  const rated = (n: number): number => (n > maxUp ? maxUp : n < minDown ? minDown : n);

  // 2. Panic mode (the window over its threshold, or the newest sample saturating the instances).
  // Saturated: the newest sample takes every slot of the ready instances (or requests queue).
  const newest = newestDemand(signals.samples, now, settings.panicWindowMs);
  const newestWant = wanted(newest, perInstance);
  const saturated = census.ready > 0 && newest > 0 && newest >= census.ready * settings.targetConcurrency;
  const saturatedWant = saturated ? newestWant : 0;
  const over = saturated || (w.panicCount > 0 && w.panic >= settings.panicThreshold * Math.max(1, census.ready) * perInstance);
  const p = panicStep(over, stableWant < newestWant, state, now, settings.stableWindowMs);
  let desired: number;
  let reason: ScaleReason;
  if (p.panicking) {
    // Never scale down while panicking: hold the highest count seen since entering (at least current).
    const held = Math.max(state.panicSince === undefined ? current : state.panicDesired, current);
    const want = Math.max(panicWant, saturatedWant);
    desired = Math.max(rated(want), held);
    reason = want > maxUp ? 'rate_limited_up' : saturatedWant > panicWant && desired > held ? 'saturated' : 'panic';
  } else {
    desired = rated(stableWant);
    reason = stableWant > maxUp ? 'rate_limited_up' : stableWant < minDown ? 'rate_limited_down' : 'stable_demand';
  }

  // 4. Idleness decides zero (and min); activity keeps at least one instance.
  if (idle && !p.panicking) {
    desired = settings.minInstances;
    reason = 'idle';
  } else if (current > 0 && desired < 1) {
    desired = 1;
    reason = 'stable_demand';
  }
  // A scale-down never leaves the newest sample saturating the instances that stay (it would
  // come straight back up): keep more than newest / target_concurrency of them.
  const unsaturated = Math.min(current, Math.floor(newest / settings.targetConcurrency) + 1);
  if (!idle && newest > 0 && desired < unsaturated) {
    desired = unsaturated;
    reason = 'stable_demand';
  }

  // 5. Floors that act at once, still within the up rate.
  if (signals.overflow > 0 || signals.noneHealthy > 0) {
    const floor = Math.min(maxUp, census.ready + Math.max(census.starting, 1));
    if (floor > desired) {
      desired = floor;
      reason = 'overflow';
    }
  }
  if (signals.waking > 0) {
    const floor = Math.min(maxUp, Math.max(1, wanted(signals.waking, perInstance)));
    if (floor > desired) {
      desired = floor;
      reason = 'wake';
    }
  }

  // 6. scale_down_delay.
  const d = delayed(state.recent, now, settings.scaleDownDelayMs, desired);
  if (d.max > desired) {
    desired = d.max;
    reason = 'scale_down_delay';
  }

  // 7. Missing data never removes an instance.
  if (missingData && desired < current) {
    desired = current;
    reason = 'stale_metrics';
  }

  // 8. Bounds.
  if (desired > settings.maxInstances) {
    desired = settings.maxInstances;
    reason = 'max_instances';
  } else if (desired < settings.minInstances) {
    desired = settings.minInstances;
    reason = 'min_instances';
  }
  if (desired === current && !p.panicking && (reason === 'stable_demand' || reason === 'idle' || reason === 'min_instances' || reason === 'rate_limited_down')) reason = 'steady';

  return {
    desired,
    reason,
    panic: p.panicking,
    inputs: { stableDemand: w.stable, panicDemand: w.panic, capacityPerInstance: perInstance, current, idleMs },
    next: { panicSince: p.panicSince, panicDesired: p.panicking ? desired : 0, recent: d.recent },
  };
};
