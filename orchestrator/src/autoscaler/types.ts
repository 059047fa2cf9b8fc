/**
 * The autoscaler's contract with the function controller. decideScale (autoscaler/decide.ts) is
 * pure: same inputs, same decision; the controller observes (metrics, instances, wakes), calls it
 * once per tick with `now`, logs the decision and acts on it. Modelled on Knative's
 * pkg/autoscaler/scaling: concurrency-based, stable and panic windows, bounded rates.
 */
import type { ScalingSettings } from '@faas/contracts';

/** One observation of demand, taken by the controller once per tick (1 s). */
export interface DemandSample {
  /** Epoch ms of the observation. */
  at: number;
  /**
   * Requests inside instances: the larger of the routers' upstream_rq_active sum and the sum of
   * the runtimes' own in-flight counts (two independent signals; either may lag).
   */
  inflight: number;
  /** Requests queued in the routers (upstream_rq_pending_active sum); 0 when metrics are stale. */
  pending: number;
}

export interface ScaleSignals {
  now: number;
  /** Samples of the last stable window (older ones are ignored), oldest first. */
  samples: readonly DemandSample[];
  /** upstream_rq_pending_overflow in the last window: load was shed, scale up at once. */
  overflow: number;
  /** upstream_cx_none_healthy in the last window: traffic found no healthy instance. */
  noneHealthy: number;
  /** Whether the router metrics are fresh (statsd-listener wrote them within a bounded time). */
  routerMetricsFresh: boolean;
  /** Epoch ms of the last sign of traffic: a request in flight, a finished request or a wake. */
  lastActivityAt: number;
  /** Requests held at gateways waiting for this function to wake (0 or more). */
  waking: number;
}

export interface InstanceCensus {
  /** Routable instances (HEALTHY, ACKed by every router). */
  ready: number;
  /** Being created, started or probed; count towards capacity being added. */
  starting: number;
  /** Leaving: no new requests; never counted as capacity. */
  draining: number;
}

/** What the autoscaler remembers between ticks (owned by the controller, never mutated by decideScale). */
export interface AutoscalerState {
  /**
   * Epoch ms of the last tick whose panic-window demand was over the threshold (Knative's
   * panicTime): panic ends a stable window after it. Undefined when not panicking.
   */
  panicSince: number | undefined;
  /** Highest desired count while panicking (panic never scales down). */
  panicDesired: number;
  /** Recommendations of the last scale_down_delay, to take their maximum (Knative's delay window). */
  recent: readonly { at: number; desired: number }[];
}

export const INITIAL_AUTOSCALER_STATE: AutoscalerState = { panicSince: undefined, panicDesired: 0, recent: [] };

export type ScaleReason =
  | 'steady'            // desired equals current
  | 'stable_demand'     // follows the stable-window average
  | 'panic'             // panic window demand >= threshold × capacity
  | 'saturated'         // the newest sample fills every ready instance (requests queue): its demand, at once
  | 'overflow'          // router shed load or found no healthy instance
  | 'wake'              // requests held at gateways, no instance
  | 'rate_limited_up'   // wanted more, capped by max_scale_up_rate
  | 'rate_limited_down' // wanted fewer, capped by max_scale_down_rate
  | 'scale_down_delay'  // a higher recommendation is still inside scale_down_delay
  | 'idle'              // no activity for idle_timeout: down to min_instances
  | 'min_instances'
  | 'max_instances'
  | 'stale_metrics';    // router metrics are stale: hold, never scale down on missing data

export interface ScaleDecision {
  /** Instances wanted (ready + starting), within [minInstances, maxInstances]. */
  desired: number;
  reason: ScaleReason;
  panic: boolean;
  /** The figures the decision used, for the one-line decision log. */
  inputs: {
    stableDemand: number;
    panicDemand: number;
    capacityPerInstance: number;
    current: number;
    idleMs: number;
  };
  next: AutoscalerState;
}

export type DecideScale = (settings: ScalingSettings, signals: ScaleSignals, census: InstanceCensus, state: AutoscalerState) => ScaleDecision;
