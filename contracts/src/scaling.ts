/**
 * Per-function scaling settings (definition file fields in brackets), read by the orchestrator's
 * pure autoscaler. Modelled on Knative's KPA: concurrency-based, with a stable and a panic window.
 */
export interface ScalingSettings {
  /** Instances kept even when idle [min_instances, 0]. */
  minInstances: number;
  /** Hard upper bound [max_instances, 5]. */
  maxInstances: number;
  /** Concurrent requests one instance should carry [target_concurrency, = concurrency]. */
  targetConcurrency: number;
  /** Fraction of targetConcurrency to aim for, leaving headroom for bursts [target_utilization, 0.7]. */
  targetUtilization: number;
  /** An instance with no request for this long may be removed (scale to zero) [idle_timeout, 30s]. */
  idleTimeoutMs: number;
  /** A lower recommendation must hold this long before instances are removed [scale_down_delay, 0s]. */
  scaleDownDelayMs: number;
  /** Averaging window for the stable mode [stable_window, 60s]. */
  stableWindowMs: number;
  /** Averaging window for the panic mode [panic_window, 6s]. */
  panicWindowMs: number;
  /** Panic when panic-window demand >= this × current capacity [panic_threshold, 2]. */
  panicThreshold: number;
  /** At most this factor more instances per decision (ceil(ready × rate)) [max_scale_up_rate, 10]. */
  maxScaleUpRate: number;
  /** At most ready / rate fewer instances per decision [max_scale_down_rate, 2]. */
  maxScaleDownRate: number;
}

export const SCALING_DEFAULTS = {
  minInstances: 0,
  maxInstances: 5,
  targetUtilization: 0.7,
  idleTimeoutMs: 30_000,
  scaleDownDelayMs: 0,
  stableWindowMs: 60_000,
  panicWindowMs: 6_000,
  panicThreshold: 2,
  maxScaleUpRate: 10,
  maxScaleDownRate: 2,
} as const;
