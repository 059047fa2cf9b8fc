/**
 * Window aggregation of Envoy statsd metrics into per-function figures. Pure: the caller
 * feeds parsed metrics with their source and the time, and closes windows with its clock.
 *
 * Gauges are absolute per Envoy process, so they are kept per (source, function) and summed
 * across sources (last-write-wins across routers would lose load). Counters are deltas,
 * summed per window. Timers go into a per-window histogram (median, p99). A source silent
 * about a function for `staleMs` leaves that function's gauge sums and router count.
 * Only defined functions are kept, so names from garbage or foreign clusters cost nothing.
 */
import * as hdr from 'hdr-histogram-js';
import { ENVOY_CLUSTER_STATS, type FunctionMetrics, functionOfCluster } from '@faas/contracts';
import type { StatsdMetric } from './parse';

interface SourceFn {
  lastSeen: number;
  /** stat -> gauge value (never below 0: Envoy's gauges are unsigned). */
  gauges: Map<string, number>;
}

interface WindowFn {
  /** stat -> counter sum in the current window. */
  counters: Map<string, number>;
  rqTime?: hdr.Histogram;
}

export interface AggregatorOptions {
  /** Statsd prefix before "cluster.", e.g. "envoy"; "" for none. */
  prefix: string;
  /** A source silent about a function this long stops counting for it. Default 3000 ms. */
  staleMs?: number;
}

/** Timers above this are clamped (an hour: far past any function timeout). */
const MAX_TIMER_MS = 3_600_000;

/** Split "<prefix>.cluster.fn-<fn>.<stat>" into fn and stat; undefined for other names. */
export function functionStat(name: string, clusterPrefix: string): { fn: string; stat: string } | undefined {
  if (!name.startsWith(clusterPrefix)) return undefined;
  const dot = name.indexOf('.', clusterPrefix.length);
  if (dot < 0) return undefined;
  const fn = functionOfCluster(name.slice(clusterPrefix.length, dot));
  if (fn === undefined) return undefined;
  return { fn, stat: name.slice(dot + 1) };
}

const NONE: readonly string[] = [];

function zeroFigures(windowMs: number, now: number): FunctionMetrics {
  return { rqActive: 0, rqPendingActive: 0, rqPerSecond: 0, pendingOverflow: 0, noneHealthy: 0, latencyMedianMs: -1, latencyP99Ms: -1, routers: 0, windowMs, updatedAt: now };
}

function newHistogram(): hdr.Histogram {
  // Two significant digits is 1% resolution: plenty for scaling decisions, ~9 KB per function.
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_TIMER_MS, numberOfSignificantValueDigits: 2, autoResize: false });
}

export class MetricsAggregator {
  private readonly clusterPrefix: string;
  private readonly staleMs: number;
  /** source -> fn -> gauges. */
  private readonly sources = new Map<string, Map<string, SourceFn>>();
  private window = new Map<string, WindowFn>();
  /** Histograms are reused across windows (reset, not rebuilt). */
  private readonly histograms = new Map<string, hdr.Histogram>();
  private defined: ReadonlySet<string> = new Set();

  constructor(opts: AggregatorOptions) {
    this.clusterPrefix = opts.prefix === '' ? 'cluster.' : `${opts.prefix}.cluster.`;
    this.staleMs = opts.staleMs ?? 3000;
  }

  /** Replace the set of defined functions; figures of the others are dropped. */
  setDefined(fns: Iterable<string>): void {
    this.defined = new Set(fns);
    for (const perFn of this.sources.values()) for (const fn of perFn.keys()) if (!this.defined.has(fn)) perFn.delete(fn);
    for (const fn of this.window.keys()) if (!this.defined.has(fn)) this.window.delete(fn);
    for (const fn of this.histograms.keys()) if (!this.defined.has(fn)) this.histograms.delete(fn);
  }

  definedCount(): number {
    return this.defined.size;
  }

  /**
   * Record the metrics of one datagram from `source` ("ip:port") received at `now`. Returns the
   * functions for which it carried a sign of demand beyond capacity (a pending gauge above 0, or
   * an overflow or no-healthy-upstream count): candidates for a demand alert.
   */
  ingest(source: string, metrics: readonly StatsdMetric[], now: number): readonly string[] {
    let alerting: string[] | undefined;
    for (const m of metrics) {
      const fs = functionStat(m.name, this.clusterPrefix);
      if (fs === undefined || !this.defined.has(fs.fn)) continue;
      let perFn = this.sources.get(source);
      if (perFn === undefined) this.sources.set(source, (perFn = new Map()));
      let sf = perFn.get(fs.fn);
      if (sf === undefined) perFn.set(fs.fn, (sf = { lastSeen: now, gauges: new Map() }));
      sf.lastSeen = now;
      if (m.type === 'g') {
        const v = Math.max(0, m.gaugeDelta ? (sf.gauges.get(fs.stat) ?? 0) + m.value : m.value);
        sf.gauges.set(fs.stat, v);
        if (v > 0 && fs.stat === ENVOY_CLUSTER_STATS.rqPendingActive) (alerting ??= []).push(fs.fn);
        continue;
      }
      let w = this.window.get(fs.fn);
      if (w === undefined) this.window.set(fs.fn, (w = { counters: new Map() }));
      if (m.type === 'c') {
        w.counters.set(fs.stat, (w.counters.get(fs.stat) ?? 0) + m.value);
        if (m.value > 0 && (fs.stat === ENVOY_CLUSTER_STATS.rqPendingOverflow || fs.stat === ENVOY_CLUSTER_STATS.cxNoneHealthy)) (alerting ??= []).push(fs.fn);
      } else if (fs.stat === ENVOY_CLUSTER_STATS.rqTime) {
        if (w.rqTime === undefined) {
          let h = this.histograms.get(fs.fn);
          if (h === undefined) this.histograms.set(fs.fn, (h = newHistogram()));
          w.rqTime = h;
        }
        // Sample rates do not bias percentiles (every sample stands for the same weight).
        w.rqTime.recordValue(Math.min(MAX_TIMER_MS, Math.round(m.value)));
      }
    }
    return alerting ?? NONE;
  }

  /**
   * One function's figures now, mid-window, without closing the window (a demand alert): gauges
   * summed over the sources that are not stale, counters of the window so far, no latencies.
   */
  snapshot(fn: string, now: number, windowMs: number): FunctionMetrics | undefined {
    if (!this.defined.has(fn)) return undefined;
    const m = zeroFigures(windowMs, now);
    for (const perFn of this.sources.values()) {
      const sf = perFn.get(fn);
      if (sf === undefined || now - sf.lastSeen >= this.staleMs) continue;
      m.rqActive += sf.gauges.get(ENVOY_CLUSTER_STATS.rqActive) ?? 0;
      m.rqPendingActive += sf.gauges.get(ENVOY_CLUSTER_STATS.rqPendingActive) ?? 0;
      m.routers++;
    }
    const w = this.window.get(fn);
    if (w !== undefined) {
      m.pendingOverflow = w.counters.get(ENVOY_CLUSTER_STATS.rqPendingOverflow) ?? 0;
      m.noneHealthy = w.counters.get(ENVOY_CLUSTER_STATS.cxNoneHealthy) ?? 0;
    }
    return m;
  }

  /** Sources currently kept (any function). */
  sourceCount(): number {
    return this.sources.size;
  }

  /**
   * End the current window (of length windowMs, ending at `now`): figures for every defined
   * function (zeros when nothing was heard), stale sources dropped, counters reset.
   */
  closeWindow(now: number, windowMs: number): Map<string, FunctionMetrics> {
    const out = new Map<string, FunctionMetrics>();
    for (const fn of this.defined) out.set(fn, zeroFigures(windowMs, now));
    for (const [source, perFn] of this.sources) {
      for (const [fn, sf] of perFn) {
        const m = out.get(fn);
        if (m === undefined || now - sf.lastSeen >= this.staleMs) {
          perFn.delete(fn);
          continue;
        }
        m.rqActive += sf.gauges.get(ENVOY_CLUSTER_STATS.rqActive) ?? 0;
        m.rqPendingActive += sf.gauges.get(ENVOY_CLUSTER_STATS.rqPendingActive) ?? 0;
        m.routers++;
      }
      if (perFn.size === 0) this.sources.delete(source);
    }
    const seconds = windowMs / 1000;
    for (const [fn, w] of this.window) {
      const m = out.get(fn);
      if (m === undefined) continue;
      m.rqPerSecond = (w.counters.get(ENVOY_CLUSTER_STATS.rqTotal) ?? 0) / seconds;
      m.pendingOverflow = w.counters.get(ENVOY_CLUSTER_STATS.rqPendingOverflow) ?? 0;
      m.noneHealthy = w.counters.get(ENVOY_CLUSTER_STATS.cxNoneHealthy) ?? 0;
      if (w.rqTime !== undefined && w.rqTime.totalCount > 0) {
        m.latencyMedianMs = w.rqTime.getValueAtPercentile(50);
        m.latencyP99Ms = w.rqTime.getValueAtPercentile(99);
        w.rqTime.reset();
      }
    }
    this.window = new Map();
    return out;
  }
}
