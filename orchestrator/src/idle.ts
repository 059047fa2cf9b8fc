/** Scale-to-zero decision: which instances have been idle too long. Pure. */

export interface InstanceLoad {
  id: string;
  inflight: number;
  /** ms since the instance last finished a request (0 while busy). */
  idleMs: number;
}

/**
 * Instances idle for at least idleTimeoutMs, most idle first, never taking the fleet below
 * minInstances. Busy instances are never chosen, whatever their idleMs says.
 */
export function idleInstances(loads: readonly InstanceLoad[], idleTimeoutMs: number, minInstances = 0): string[] {
  const removable = Math.max(0, loads.length - minInstances);
  return loads
    .filter((l) => l.inflight === 0 && l.idleMs >= idleTimeoutMs)
    .sort((a, b) => b.idleMs - a.idleMs || a.id.localeCompare(b.id))
    .slice(0, removable)
    .map((l) => l.id);
}
