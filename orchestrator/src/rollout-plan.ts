/**
 * The decisions of a version rollout (rollout.ts does the I/O). Pure, table-tested:
 * - planRollout: given the instances now, wait, just switch the definition (cold), or start
 *   as many new-version instances as the old version has ready;
 * - planSwitch: the one router push that takes new requests to the new version: which
 *   instances become HEALTHY, which DRAINING.
 */
import type { InstanceState } from './instance-set';

export interface PlanInstance {
  id: string;
  state: InstanceState;
}

export type RolloutPlan =
  /** Instances are starting (a cold start, a scale-up): their starts finish first. */
  | { kind: 'wait'; reason: string }
  /** Nothing serves: the definition is swapped and the next wake starts the new version. */
  | { kind: 'switch_definition' }
  /**
   * Start `start` new-version instances. While both versions run the function may exceed
   * max_instances by up to the new instances (`overMax`): the old ones leave right after.
   */
  | { kind: 'replace'; start: number; overMax: number };

export function planRollout(instances: readonly PlanInstance[], maxInstances: number): RolloutPlan {
  const count = (s: InstanceState) => instances.filter((i) => i.state === s).length;
  const starting = count('starting');
  if (starting > 0) return { kind: 'wait', reason: `${starting} instance(s) starting` };
  const ready = count('ready');
  if (ready === 0) return { kind: 'switch_definition' };
  // As many as serve now, so the new version takes the same load; never more than it may have.
  const start = Math.max(1, Math.min(ready, maxInstances));
  return { kind: 'replace', start, overMax: Math.max(0, ready + count('draining') + start - maxInstances) };
}

export type SwitchPlan =
  | { kind: 'switch'; promote: string[]; drain: string[] }
  | { kind: 'abort'; reason: string };

/**
 * `standby`: the new-version instances that answered ready (still 'starting' in the set, never
 * routed) and whose containers still run. Every ready instance of the old version drains.
 */
export function planSwitch(instances: readonly PlanInstance[], standby: ReadonlySet<string>): SwitchPlan {
  const promote = instances.filter((i) => standby.has(i.id) && i.state === 'starting').map((i) => i.id);
  if (promote.length === 0) return { kind: 'abort', reason: 'no instance of the new version is ready' };
  const drain = instances.filter((i) => !standby.has(i.id) && i.state === 'ready').map((i) => i.id);
  return { kind: 'switch', promote, drain };
}
