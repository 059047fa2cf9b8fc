/**
 * A ramp of closed-loop clients for the scaling tests and the scale benchmark: the number of
 * active workers follows a list of steps, and each response's status and latency is kept.
 * Hand-written rather than load/'s runLoad because a test needs to abort requests in flight
 * (the "load killed mid-ramp" case) and to read every single status.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type FunctionStateRecord, redisKeys } from '@faas/contracts';
import type { Redis } from 'ioredis';

export interface Sample { at: number; status: number | string; ms: number; body?: string }

export interface Ramp {
  samples: Sample[];
  /** Resolves when the last step has run and every worker has finished its request. */
  done: Promise<void>;
  /** Stop sending; requests in flight finish. */
  stop(): Promise<void>;
  /** Abort: stop at once, cutting requests in flight (the client goes away). */
  kill(): Promise<void>;
}

/** `steps[i]` workers during the i-th `stepMs` interval. */
export function startRamp(url: string, steps: readonly number[], stepMs: number): Ramp {
  const samples: Sample[] = [];
  const abort = new AbortController();
  const endSchedule = new AbortController();
  const t0 = performance.now();
  let target = 0;
  let stopped = false;
  const worker = async (i: number): Promise<void> => {
    while (!stopped) {
      if (i >= target) { await sleep(20); continue; }
      const start = performance.now();
      try {
        const res = await fetch(url, { signal: abort.signal });
        const body = await res.text();
        samples.push({ at: start - t0, status: res.status, ms: performance.now() - start, ...(res.status === 200 ? {} : { body: body.slice(0, 200) }) });
      } catch (err) {
        if (abort.signal.aborted) return;
        samples.push({ at: start - t0, status: `network: ${String((err as { cause?: unknown }).cause ?? err)}`, ms: performance.now() - start });
      }
    }
  };
  const workers = Array.from({ length: Math.max(...steps) }, (_, i) => worker(i));
  const schedule = (async () => {
    for (const n of steps) {
      if (endSchedule.signal.aborted) break;
      target = n;
      await sleep(stepMs, undefined, { signal: endSchedule.signal }).catch(() => undefined); // stopped: end of ramp
    }
    stopped = true;
  })();
  const done = Promise.all([schedule, ...workers]).then(() => undefined);
  return {
    samples,
    done,
    async stop() {
      stopped = true;
      endSchedule.abort();
      await done;
    },
    async kill() {
      abort.abort();
      await this.stop();
    },
  };
}

/** Up from 1 to `peak` workers and back down to 1, one step per worker count. */
export const upAndDown = (peak: number): number[] => [
  ...Array.from({ length: peak }, (_, i) => i + 1),
  ...Array.from({ length: peak - 1 }, (_, i) => peak - 1 - i),
];

export async function stateRecord(redis: Redis, stack: string, fn: string): Promise<FunctionStateRecord | undefined> {
  const raw = await redis.hget(redisKeys(stack).functions, fn);
  return raw === null ? undefined : (JSON.parse(raw) as FunctionStateRecord);
}

/** Instances of a record (starting + ready + draining); 0 when absent. */
export function instanceTotal(r: FunctionStateRecord | undefined): number {
  if (r === undefined) return 0;
  const i = r.instances;
  return i === undefined ? r.readyInstances : i.starting + i.ready + i.draining;
}

/** Polls until `check` returns true, failing with `what` and the last value after timeoutMs. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what()}: not reached within ${timeoutMs} ms`);
    await sleep(100);
  }
}
