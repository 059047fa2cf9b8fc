/**
 * Window aggregation of Envoy statsd metrics into per-function figures. Pure: the caller
 * feeds parsed metrics with their source and closes windows with the clock it uses.
 *
 * Gauges are absolute per Envoy process, so they are kept per (source, name) and summed
 * across sources (last-write-wins across routers would lose load). Counters are deltas,
 * summed per window. A source silent for `staleWindows` windows leaves the gauge sums.
 */
import { ENVOY_CLUSTER_STATS, type FunctionMetrics, functionOfCluster } from '@faas/contracts';
import type { StatsdMetric } from './parse';

interface SourceState {
  /** Index of the last window in which this source sent anything. */
  lastWindow: number;
  /** fn -> stat -> gauge value. */
  gauges: Map<string, Map<string, number>>;
  /** Functions this source mentioned in the current window. */
  fnsThisWindow: Set<string>;
}

export interface AggregatorOptions {
  /** Statsd prefix before "cluster.", e.g. "envoy". */
  prefix: string;
  /** Windows a source may stay silent before its gauges are dropped. */
  staleWindows?: number;
}

/** Split "<prefix>.cluster.fn-<fn>.<stat>" into fn and stat; undefined for other names. */
export function functionStat(name: string, clusterPrefix: string): { fn: string; stat: string } | undefined {
  if (!name.startsWith(clusterPrefix)) return undefined;
  const dot = name.indexOf('.', clusterPrefix.length);
  if (dot < 0) return undefined;
  const fn = functionOfCluster(name.slice(clusterPrefix.length, dot));
  if (fn === undefined) return undefined;
  return { fn, stat: name.slice(dot + 1) };
}

export class MetricsAggregator {
  private readonly clusterPrefix: string;
  private readonly staleWindows: number;
  private readonly sources = new Map<string, SourceState>();
  /** fn -> stat -> counter sum in the current window. */
  private counters = new Map<string, Map<string, number>>();
  private window = 0;

  constructor(opts: AggregatorOptions) {
    this.clusterPrefix = opts.prefix === '' ? 'cluster.' : `${opts.prefix}.cluster.`;
    this.staleWindows = opts.staleWindows ?? 3;
  }

  /** Record the metrics of one datagram from `source` ("ip:port"). */
  ingest(source: string, metrics: readonly StatsdMetric[]): void {
    let st = this.sources.get(source);
    if (st === undefined) {
      st = { lastWindow: this.window, gauges: new Map(), fnsThisWindow: new Set() };
      this.sources.set(source, st);
    }
    st.lastWindow = this.window;
    for (const m of metrics) {
      const fs = functionStat(m.name, this.clusterPrefix);
      if (fs === undefined) continue;
      st.fnsThisWindow.add(fs.fn);
      if (m.type === 'g') {
        let g = st.gauges.get(fs.fn);
        if (g === undefined) st.gauges.set(fs.fn, (g = new Map()));
        g.set(fs.stat, m.gaugeDelta ? (g.get(fs.stat) ?? 0) + m.value : m.value);
      } else if (m.type === 'c') {
        let c = this.counters.get(fs.fn);
        if (c === undefined) this.counters.set(fs.fn, (c = new Map()));
        c.set(fs.stat, (c.get(fs.stat) ?? 0) + m.value);
      }
      // Timers (upstream_rq_time) are not part of FunctionMetrics.
    }
  }

  /** Number of sources currently kept. */
  sourceCount(): number {
    return this.sources.size;
  }

  /**
   * End the current window (of length windowMs, ending at `now`): return the figures of
   * every function seen, drop stale sources, reset counters.
   */
  closeWindow(now: number, windowMs: number): Map<string, FunctionMetrics> {
    const out = new Map<string, FunctionMetrics>();
    const get = (fn: string): FunctionMetrics => {
      let m = out.get(fn);
      if (m === undefined) {
        m = { rqActive: 0, rqPendingActive: 0, rqPerSecond: 0, pendingOverflow: 0, noneHealthy: 0, latencyMedianMs: -1, latencyP99Ms: -1, routers: 0, windowMs, updatedAt: now };
        out.set(fn, m);
      }
      return m;
    };
    for (const [source, st] of this.sources) {
      if (this.window - st.lastWindow >= this.staleWindows) {
        this.sources.delete(source);
        continue;
      }
      for (const [fn, g] of st.gauges) {
        const m = get(fn);
        m.rqActive += g.get(ENVOY_CLUSTER_STATS.rqActive) ?? 0;
        m.rqPendingActive += g.get(ENVOY_CLUSTER_STATS.rqPendingActive) ?? 0;
      }
      for (const fn of st.fnsThisWindow) get(fn).routers++;
      st.fnsThisWindow.clear();
    }
    const seconds = windowMs / 1000;
    for (const [fn, c] of this.counters) {
      const m = get(fn);
      m.rqPerSecond = (c.get(ENVOY_CLUSTER_STATS.rqTotal) ?? 0) / seconds;
      m.pendingOverflow = c.get(ENVOY_CLUSTER_STATS.rqPendingOverflow) ?? 0;
      m.noneHealthy = c.get(ENVOY_CLUSTER_STATS.cxNoneHealthy) ?? 0;
    }
    this.counters = new Map();
    this.window++;
    return out;
  }
}
