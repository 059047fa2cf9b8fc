/**
 * When to send a demand alert (contracts/src/demand-alert.ts). Pure: the listener asks with
 * its clock. An alert is worth sending when a function's figures show demand beyond what its
 * routers can place (requests queued, load shed, no healthy upstream), and at most once per
 * function per minIntervalMs, so a function that stays overloaded costs a few messages a second.
 */
import type { DemandAlertReason, FunctionMetrics } from '@faas/contracts';

/** Why these figures call for an alert, most severe first; undefined when they do not. */
export function alertReason(m: FunctionMetrics): DemandAlertReason | undefined {
  if (m.pendingOverflow > 0) return 'overflow';
  if (m.noneHealthy > 0) return 'none_healthy';
  if (m.rqPendingActive > 0) return 'pending';
  return undefined;
}

export class DemandAlertGate {
  /** fn -> time of its last alert. */
  private readonly last = new Map<string, number>();

  constructor(private readonly minIntervalMs: number) {}

  /** Takes the slot for an alert of `fn` at `now`: false while an earlier one is too recent. */
  take(fn: string, now: number): boolean {
    const t = this.last.get(fn);
    // A clock that went back (t > now) must not mute a function until it catches up.
    if (t !== undefined && now - t < this.minIntervalMs && now >= t) return false;
    this.last.set(fn, now);
    return true;
  }

  /** Forget slots that no longer limit anything (keeps the map as small as the overloaded set). */
  prune(now: number): void {
    for (const [fn, t] of this.last) if (now - t >= this.minIntervalMs || t > now) this.last.delete(fn);
  }

  size(): number {
    return this.last.size;
  }
}
