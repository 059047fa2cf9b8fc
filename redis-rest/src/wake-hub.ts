/**
 * In-process registry of requests waiting for a function to become warm.
 * One wake is published per function per interval however many requests wait (coalesced), and it
 * keeps being re-published while anyone waits, so a wake lost to an orchestrator restart is repeated.
 * Waiters are settled by state messages from the one shared subscriber; the republish tick also reads
 * the state back, which covers pub/sub messages lost while the subscriber reconnected.
 */
import type { Logger, WakeTier } from '@faas/contracts';
import type { TickState } from './store';

export type WakeOutcome = 'warm' | 'gone' | 'closing';

export interface WakeWaiter {
  fn: string;
  requestId: string;
  /** `tier`: the warm tier that served the wake, when the state message named it. */
  settle(outcome: WakeOutcome, tier?: WakeTier): void;
}

export interface WakeHubDeps {
  /** Publish a wake for fn (`waiting`: requests held for it here) and return the state read back. */
  tick(fn: string, requestId: string, waiting: number): Promise<TickState>;
  intervalMs: number;
  logger: Logger;
}

export class WakeHub {
  private readonly waiters = new Map<string, Set<WakeWaiter>>();
  private readonly tickers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deps: WakeHubDeps) {}

  /** Register a waiter; it gets no wake published until activate(fn). Returns its remover. */
  register(w: WakeWaiter): () => void {
    let set = this.waiters.get(w.fn);
    if (!set) {
      set = new Set();
      this.waiters.set(w.fn, set);
    }
    set.add(w);
    return () => this.remove(w);
  }

  /** Make sure wakes for fn are being published: now if none is, then every interval. */
  activate(fn: string): void {
    if (this.tickers.has(fn) || !this.waiters.get(fn)?.size) return;
    this.tickers.set(fn, setInterval(() => this.runTick(fn), this.deps.intervalMs));
    this.runTick(fn);
  }

  /** A state change from the subscriber. */
  onState(fn: string, state: string, tier?: WakeTier): void {
    if (state === 'warm') this.settleAll(fn, 'warm', tier);
  }

  waiting(fn: string): number {
    return this.waiters.get(fn)?.size ?? 0;
  }

  close(): void {
    for (const fn of [...this.waiters.keys()]) this.settleAll(fn, 'closing');
  }

  private runTick(fn: string): void {
    const set = this.waiters.get(fn);
    const first = set?.values().next().value;
    if (!first) return this.stopTicker(fn);
    this.deps.tick(fn, first.requestId, set.size).then(
      (state) => {
        if (state === 'warm') this.settleAll(fn, 'warm');
        else if (state === 'gone') this.settleAll(fn, 'gone');
      },
      (err: unknown) => this.deps.logger.warn('wake_publish_failed', { fn, requestId: first.requestId, error: err }),
    );
  }

  private settleAll(fn: string, outcome: WakeOutcome, tier?: WakeTier): void {
    const set = this.waiters.get(fn);
    if (!set) return;
    this.waiters.delete(fn);
    this.stopTicker(fn);
    for (const w of set) w.settle(outcome, tier);
  }

  private remove(w: WakeWaiter): void {
    const set = this.waiters.get(w.fn);
    if (!set) return;
    set.delete(w);
    if (set.size === 0) {
      this.waiters.delete(w.fn);
      this.stopTicker(w.fn);
    }
  }

  private stopTicker(fn: string): void {
    const t = this.tickers.get(fn);
    if (t) clearInterval(t);
    this.tickers.delete(fn);
  }
}
