/**
 * Waiters of GET /v1/functions/:name/failure: a request the router answered `instance_failed`
 * waits (bounded) for the orchestrator's record of why the instance ended. Released by records
 * from the one shared subscriber; which record explains a request is the pure `explainFailure`.
 */
import type { InstanceFailureRecord } from '@faas/contracts';
import type { StateStore } from './store';

/**
 * The record that explains a failure of a request that started at `since`, from records of its
 * function (any order): only ones recorded at or after the request's start (an instance cannot
 * fail a request before it began); an OOM kill wins over another end in the same window (the
 * router cannot say which instance had the request); else the earliest such end.
 */
export function explainFailure(records: readonly InstanceFailureRecord[], since: number): InstanceFailureRecord | undefined {
  const after = records.filter((r) => r.at >= since).sort((a, b) => a.at - b.at);
  return after.find((r) => r.cause === 'oom') ?? after[0];
}

export interface FailureWaiter {
  fn: string;
  since: number;
  settle(record: InstanceFailureRecord): void;
}

export class FailureHub {
  private readonly waiters = new Map<string, Set<FailureWaiter>>();

  register(w: FailureWaiter): () => void {
    let set = this.waiters.get(w.fn);
    if (!set) {
      set = new Set();
      this.waiters.set(w.fn, set);
    }
    set.add(w);
    return () => {
      set.delete(w);
      if (set.size === 0 && this.waiters.get(w.fn) === set) this.waiters.delete(w.fn);
    };
  }

  /** A record from the subscriber: settles every waiter of its function it explains. */
  onFailure(record: InstanceFailureRecord): void {
    for (const w of [...(this.waiters.get(record.fn) ?? [])]) {
      if (explainFailure([record], w.since)) w.settle(record);
    }
  }

  waiting(fn: string): number {
    return this.waiters.get(fn)?.size ?? 0;
  }
}

export interface FailureWait {
  hub: FailureHub;
  store: Pick<StateStore, 'readFailures'>;
  fn: string;
  since: number;
  waitMs: number;
  /** Registers a callback for the client going away (ends the wait). */
  onClose(f: () => void): void;
}

/**
 * Registered before the first read (a record published in between still arrives); the list is
 * read again when the wait ends, which also covers messages lost while the subscriber reconnected.
 */
export async function waitForFailure(w: FailureWait): Promise<{ record: InstanceFailureRecord | undefined; malformed: number }> {
  let release: (r: InstanceFailureRecord | undefined) => void = () => undefined;
  const released = new Promise<InstanceFailureRecord | undefined>((resolve) => { release = resolve; });
  const unregister = w.hub.register({ fn: w.fn, since: w.since, settle: (r) => release(r) });
  const timer = setTimeout(() => release(undefined), w.waitMs);
  w.onClose(() => release(undefined));
  try {
    const first = await w.store.readFailures(w.fn);
    const found = explainFailure(first.records, w.since);
    if (found || w.waitMs === 0) return { record: found, malformed: first.malformed };
    const heard = await released;
    const last = await w.store.readFailures(w.fn).catch(() => undefined); // Redis gone meanwhile: what the message said
    return { record: (last && explainFailure(last.records, w.since)) ?? heard, malformed: last?.malformed ?? 0 };
  } finally {
    clearTimeout(timer);
    unregister();
  }
}
