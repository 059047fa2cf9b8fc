/**
 * Warm-tier decisions (issue 11), pure: whether a drained instance is paused or removed (and a
 * container pre-created in its place for `warm: created`), which paused or created instances leave (TTL expired, stale version, over the global memory budget, least
 * recently used first) and which ones a wake unpauses. The controller's tick and drain call
 * these with `now` from the injected clock; the I/O lives in warm-tier.ts.
 */
import type { WarmTier } from '@faas/contracts';

/** One paused (or pre-created) instance, as the decisions see it (the pool spans every function). */
export interface PausedEntry {
  /** A created container holds no memory (memoryMb 0 in the budget) and is started, not unpaused. */
  tier: 'paused' | 'created';
  /** Unique across functions: `${fn}/${instanceId}`. */
  key: string;
  fn: string;
  instanceId: string;
  memoryMb: number;
  /** Epoch ms it was paused: its last use, for LRU. */
  pausedAt: number;
  ttlMs: number;
  /** Version it was created with, and the function's current one. */
  version: string;
  currentVersion: string;
}

export type EvictReason = 'ttl_expired' | 'stale_version' | 'over_budget';

export interface Eviction {
  key: string;
  reason: EvictReason;
}

/** Paused instances that must go now: expired or outdated ones, then LRU until under budget. */
export function pausedToEvict(entries: readonly PausedEntry[], budgetMb: number, now: number): Eviction[] {
  const out: Eviction[] = [];
  const kept: PausedEntry[] = [];
  for (const e of entries) {
    if (e.version !== e.currentVersion) out.push({ key: e.key, reason: 'stale_version' });
    else if (now - e.pausedAt >= e.ttlMs) out.push({ key: e.key, reason: 'ttl_expired' });
    else kept.push(e);
  }
  let used = kept.reduce((n, e) => n + e.memoryMb, 0);
  for (const e of byLeastRecent(kept)) {
    if (used <= budgetMb) break;
    out.push({ key: e.key, reason: 'over_budget' });
    used -= e.memoryMb;
  }
  return out;
}

export type AfterDrain = { action: 'pause'; evict: Eviction[] } | { action: 'remove'; reason: string; precreate: boolean };

export interface AfterDrainInput {
  warm: WarmTier;
  /** How the drain ended: only a clean drain (nothing in flight) may be frozen. */
  drained: boolean;
  memoryMb: number;
  budgetMb: number;
  /** Every paused instance of every function. */
  paused: readonly PausedEntry[];
  now: number;
  /** For `warm: created`: containers already pre-created for this function, and its bound. */
  created: number;
  maxInstances: number;
}

/** A drained instance: pause it (evicting LRU paused ones to make room) or remove it. */
export function afterDrain(input: AfterDrainInput): AfterDrain {
  if (input.warm === 'created') return { action: 'remove', reason: 'warm: created', precreate: input.created < input.maxInstances };
  if (input.warm !== 'paused') return { action: 'remove', reason: `warm: ${input.warm}`, precreate: false };
  if (!input.drained) return { action: 'remove', reason: 'drain did not finish cleanly', precreate: false };
  if (input.memoryMb > input.budgetMb) return { action: 'remove', reason: 'larger than the paused memory budget', precreate: false };
  // Room is made as if the newcomer were already paused (it is the most recent one).
  const evict = pausedToEvict(input.paused, input.budgetMb - input.memoryMb, input.now);
  return { action: 'pause', evict };
}

/**
 * Which of a function's warm instances a wake takes: paused before created (an unpause is far
 * cheaper than a start), most recently paused first (its caches are the warmest; the oldest go
 * first under budget pressure anyway). Stale versions are never woken.
 */
export function chooseUnpause(paused: readonly PausedEntry[], wanted: number): PausedEntry[] {
  if (wanted <= 0) return [];
  const current = byLeastRecent(paused.filter((e) => e.version === e.currentVersion)).reverse();
  return [...current.filter((e) => e.tier === 'paused'), ...current.filter((e) => e.tier === 'created')].slice(0, wanted);
}

function byLeastRecent(entries: readonly PausedEntry[]): PausedEntry[] {
  return [...entries].sort((a, b) => a.pausedAt - b.pausedAt || a.key.localeCompare(b.key));
}
