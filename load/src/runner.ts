/**
 * The load loop (I/O edge): sends requests through the gateway with a keep-alive pool, open
 * loop on the plan's send times or closed loop with N workers, bounded by the plan's length,
 * --max-requests and, per request, --timeout. Every second it snapshots in-flight requests and
 * the function's instances and reports that second's row.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { type LoadOptions, targetUrl } from './options';
import { offeredPerSecond, sendTimes, totalMs } from './plan';
import { type Instances, type Outcome, type SecondRow, SecondsRecorder } from './seconds';

export interface RunHooks {
  /** Called once per finished second with its row (progress output). */
  onSecond?: (row: SecondRow) => void;
  /** The function's instances now; undefined when unknown. Must not throw. */
  instances?: () => Promise<Instances | undefined>;
  /** Aborting stops sending; requests in flight still finish (bounded by --timeout). */
  signal?: AbortSignal;
}

export interface RunResult {
  rows: SecondRow[];
  sent: number;
  stoppedEarly: boolean;
}

export async function runLoad(o: LoadOptions, hooks: RunHooks = {}): Promise<RunResult> {
  const url = targetUrl(o);
  const rec = new SecondsRecorder();
  const agent = new Agent({ connections: o.concurrency, keepAliveTimeout: 10_000, pipelining: 1 });
  const start = performance.now();
  const rel = () => performance.now() - start;
  let inflight = 0;
  let sent = 0;
  const running = new Set<Promise<void>>();

  const one = async (): Promise<void> => {
    const t0 = rel();
    rec.sent(t0);
    sent++;
    inflight++;
    let outcome: Outcome;
    try {
      const res = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(o.timeoutMs) });
      await res.body.dump({ limit: 1 << 20 });
      outcome = res.statusCode;
    } catch (err) {
      outcome = (err as Error).name === 'TimeoutError' ? 'timeout' : 'network';
    } finally {
      inflight--;
    }
    const t1 = rel();
    rec.completed(t1, t1 - t0, outcome);
  };
  const launch = () => {
    const p = one().finally(() => running.delete(p));
    running.add(p);
  };

  let lastInstances: Instances | undefined;
  let polling = false;
  const poll = () => {
    if (hooks.instances === undefined || polling) return;
    polling = true;
    void hooks.instances().then((i) => { lastInstances = i; }).finally(() => { polling = false; });
  };
  let second = 0;
  const closeSecond = () => {
    rec.snapshot(second, inflight, lastInstances);
    const row = rec.rows()[second];
    if (row !== undefined) {
      if (o.segments === undefined) row.offered = row.sent; // closed loop: offered is what was sent
      hooks.onSecond?.(row);
    }
    second++;
    poll();
  };
  poll();
  const ticker = setInterval(closeSecond, 1000);

  const stopped = () => hooks.signal?.aborted === true;
  try {
    if (o.segments !== undefined) {
      const times = sendTimes(o.segments, o.maxRequests);
      rec.offered(offeredPerSecond(times, o.durationMs));
      for (let i = 0; i < times.length && !stopped(); ) {
        const wait = (times[i] as number) - rel();
        if (wait > 1) await sleep(Math.min(wait, 250)); // wake at least 4x/s to notice a stop
        const now = rel();
        for (; i < times.length && (times[i] as number) <= now; i++) {
          if (inflight >= o.concurrency) rec.skipped(times[i] as number);
          else launch();
        }
      }
      // A plan may end with quiet segments (rate 0): keep recording seconds (instances going to zero) to its end.
      const end = totalMs(o.segments);
      while (!stopped() && rel() < end) await sleep(Math.min(250, end - rel()));
    } else {
      let issued = 0;
      const worker = async () => {
        while (!stopped() && rel() < o.durationMs && issued < o.maxRequests) {
          issued++;
          await one();
        }
      };
      await Promise.all(Array.from({ length: o.concurrency }, worker));
    }
    await Promise.all(running);
  } finally {
    clearInterval(ticker);
    await agent.close();
  }
  if (rel() > second * 1000) closeSecond(); // the last, partial second
  const rows = rec.rows();
  if (o.segments === undefined) for (const r of rows) r.offered = r.sent; // closed loop: offered is what was sent
  return { rows, sent, stoppedEarly: stopped() };
}
