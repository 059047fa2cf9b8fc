/**
 * The paused tier across every function: one global memory budget (FAAS_PAUSED_BUDGET_MB,
 * default a quarter of the machine's memory). Each controller registers the source of its paused
 * instances; the instance sets stay the truth, the pool only gathers them for the decisions
 * (autoscaler/tier-choice.ts) and hands each eviction back to the function that owns it.
 */
import * as os from 'node:os';
import type { EvictReason, Eviction, PausedEntry } from './autoscaler/tier-choice';
import { pausedToEvict } from './autoscaler/tier-choice';

export interface PausedSource {
  fn: string;
  entries(): PausedEntry[];
  /** Remove one paused instance; a no-op when it is no longer paused (idempotent). */
  evict(instanceId: string, reason: EvictReason): Promise<void>;
}

/** Default budget: 25% of the machine's memory, in MB. */
export function defaultPausedBudgetMb(totalBytes: number = os.totalmem()): number {
  return Math.floor((totalBytes / (1024 * 1024)) * 0.25);
}

export class WarmPool {
  private readonly sources = new Map<string, PausedSource>();

  constructor(readonly budgetMb: number) {}

  /** A function's source; a later one for the same function replaces it (definition reload). */
  register(source: PausedSource): void {
    this.sources.set(source.fn, source);
  }

  entries(): PausedEntry[] {
    return [...this.sources.values()].flatMap((s) => s.entries());
  }

  /** Carry out evictions decided by tier-choice (each by the function that owns the instance). */
  async evict(evictions: readonly Eviction[]): Promise<void> {
    const byKey = new Map(this.entries().map((e) => [e.key, e]));
    await Promise.all(evictions.map(async (ev) => {
      const e = byKey.get(ev.key);
      if (e) await this.sources.get(e.fn)?.evict(e.instanceId, ev.reason);
    }));
  }

  /** The periodic part (controller ticks): TTL expiry, stale versions, budget. */
  sweep(now: number): Promise<void> {
    const due = pausedToEvict(this.entries(), this.budgetMb, now);
    return due.length > 0 ? this.evict(due) : Promise.resolve();
  }
}
