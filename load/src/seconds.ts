/**
 * Per-second figures of a load run. Pure: the runner records outcomes with times relative to
 * the run's start; rows come out per second.
 */

export interface Instances {
  ready: number;
  starting: number;
  draining: number;
}

/** One second of the run. Latency -1 when nothing completed in that second. */
export interface SecondRow {
  second: number;
  offered: number;
  sent: number;
  /** Arrivals not sent because --concurrency requests were already in flight. */
  skipped: number;
  completed: number;
  ok: number;
  /** status ("503"; "network" for no response, "timeout" past --timeout) -> count, non-2xx only. */
  errors: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  inflight: number;
  /** Function instances at the end of the second; undefined when unknown. */
  instances?: Instances;
}

/**
 * Nearest-rank percentile of an ascending array (p in 0..100); -1 when empty. Hand-written:
 * the samples of one second fit in memory, and nearest-rank is exact and easy to check.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return -1;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? -1;
}

/** Status key of an outcome: the HTTP status, "network" when there was no response, "timeout". */
export type Outcome = number | 'network' | 'timeout';

interface Bucket {
  offered: number;
  sent: number;
  skipped: number;
  ok: number;
  errors: Record<string, number>;
  latencies: number[];
  inflight: number;
  instances?: Instances;
}

export class SecondsRecorder {
  private readonly buckets: Bucket[] = [];

  private at(tMs: number): Bucket {
    const s = Math.max(0, Math.floor(tMs / 1000));
    while (this.buckets.length <= s) this.buckets.push({ offered: 0, sent: 0, skipped: 0, ok: 0, errors: {}, latencies: [], inflight: 0 });
    return this.buckets[s] as Bucket;
  }

  offered(perSecond: readonly number[]): void {
    perSecond.forEach((n, s) => { this.at(s * 1000).offered = n; });
  }

  sent(tMs: number): void {
    this.at(tMs).sent++;
  }

  skipped(tMs: number): void {
    this.at(tMs).skipped++;
  }

  /** A request that ended at `endMs` after `latencyMs`; counted in the second it ended. */
  completed(endMs: number, latencyMs: number, outcome: Outcome): void {
    const b = this.at(endMs);
    if (typeof outcome === 'number' && outcome >= 200 && outcome < 300) b.ok++;
    else b.errors[String(outcome)] = (b.errors[String(outcome)] ?? 0) + 1;
    b.latencies.push(latencyMs);
  }

  /** State at the end of second `second`: requests in flight and the function's instances. */
  snapshot(second: number, inflight: number, instances: Instances | undefined): void {
    const b = this.at(second * 1000);
    b.inflight = inflight;
    b.instances = instances;
  }

  rows(): SecondRow[] {
    return this.buckets.map((b, second) => {
      const sorted = [...b.latencies].sort((x, y) => x - y);
      const row: SecondRow = {
        second, offered: b.offered, sent: b.sent, skipped: b.skipped, completed: sorted.length, ok: b.ok,
        errors: { ...b.errors }, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), inflight: b.inflight,
      };
      if (b.instances !== undefined) row.instances = { ...b.instances };
      return row;
    });
  }
}

/** Errors of a row as "503:2 network:1" (empty when none), statuses in ascending order. */
export function formatErrors(errors: Record<string, number>): string {
  return Object.keys(errors).sort().map((k) => `${k}:${errors[k]}`).join(' ');
}

/** The one line printed per second while the run goes. */
export function progressLine(r: SecondRow): string {
  const ms = (v: number) => (v < 0 ? '-' : `${v.toFixed(1)}ms`);
  const inst = r.instances === undefined ? 'instances unknown' : `instances ready ${r.instances.ready} starting ${r.instances.starting} draining ${r.instances.draining}`;
  const errs = formatErrors(r.errors);
  return `t=${r.second + 1}s offered ${r.offered}/s done ${r.completed}/s ok ${r.ok} errors ${errs === '' ? '0' : errs}${r.skipped > 0 ? ` skipped ${r.skipped}` : ''} p50 ${ms(r.p50Ms)} p99 ${ms(r.p99Ms)} inflight ${r.inflight} ${inst}`;
}
