/**
 * Which instances to drain when the autoscaler wants fewer than there are. Pure: the controller
 * passes what it observed and drains the returned instances, in order.
 *
 * Only ready instances are candidates: a starting one has no request to lose yet but is capacity
 * about to arrive (the controller may cancel it by its own rule), and a draining one is already
 * leaving. Ready capacity is never traded for starting capacity: at most ready − desired are
 * drained, so a tick where some are still starting drains fewer (or none), and a later tick
 * drains the rest once they are ready.
 */

export type InstancePhase = 'starting' | 'ready' | 'draining';

export interface DrainCandidate {
  id: string;
  phase: InstancePhase;
  /** Requests inside the instance now (the runtime's own count). */
  inflight: number;
  /** Epoch ms of its last request (started or finished); its start time when it never had one. */
  lastActivityAt: number;
  /** Epoch ms it was started. */
  startedAt: number;
}

/** Least busy first: fewest in flight, then idle longest, then youngest (least warmed), then id. */
function lessBusyFirst(a: DrainCandidate, b: DrainCandidate): number {
  return a.inflight - b.inflight || a.lastActivityAt - b.lastActivityAt || b.startedAt - a.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The ready instances to drain so that `desired` ready ones remain (never below zero), least
 * busy first. Returns [] when nothing should go.
 */
export function chooseDrainVictims<T extends DrainCandidate>(instances: readonly T[], desired: number): T[] {
  const ready = instances.filter((i) => i.phase === 'ready');
  const count = ready.length - Math.max(0, Math.floor(desired));
  if (count <= 0) return [];
  return ready.sort(lessBusyFirst).slice(0, count);
}
