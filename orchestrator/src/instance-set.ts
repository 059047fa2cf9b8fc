/**
 * One function's instances and their lifecycle states. Transitions (and nothing else):
 *
 *   starting ──ready probe + every router ACKed──> ready ──drain chosen──> draining ──> stopped
 *       └──────────── start failed / died ───────────────────────────────────────────────┘
 *
 * - starting: container being created, started, probed; counts as capacity being added,
 *   never routable.
 * - ready: HEALTHY endpoint ACKed by every router; serves traffic.
 * - draining: DRAINING endpoint (ACKed): no new requests, in-flight ones finish.
 * - stopped: endpoint withdrawn, container stopped; the record leaves the set.
 * Warm tiers later (paused, created-not-started) slot in between stopped and starting.
 */
import type { InstanceCensus } from './autoscaler/types';
import type { InstanceStats } from './probe';
import type { RoutableInstance } from './route-spec';

export type InstanceState = 'starting' | 'ready' | 'draining' | 'stopped';

export interface Instance {
  id: string;
  /** Function version it runs (LABELS.version): a rollout tells old and new instances apart by it. */
  version: string;
  /** Known once Docker created the container. */
  containerId: string | undefined;
  /** Where routers reach the runtime; known once the container runs. */
  endpoint: { address: string; port: number } | undefined;
  state: InstanceState;
  /** Epoch ms of the last state change. */
  since: number;
  stats: InstanceStats | undefined;
  /** Consecutive failed stats reads. */
  statsFailures: number;
}

export class InstanceSet {
  private readonly byId = new Map<string, Instance>();

  add(i: Instance): void {
    this.byId.set(i.id, i);
  }

  get(id: string): Instance | undefined {
    return this.byId.get(id);
  }

  byContainer(containerId: string): Instance | undefined {
    for (const i of this.byId.values()) if (i.containerId === containerId) return i;
    return undefined;
  }

  /** Moves an instance to a state; 'stopped' removes it from the set. */
  transition(i: Instance, state: InstanceState, at: number): void {
    i.state = state;
    i.since = at;
    if (state === 'stopped') this.byId.delete(i.id);
  }

  all(): Instance[] {
    return [...this.byId.values()];
  }

  inState(state: InstanceState): Instance[] {
    return this.all().filter((i) => i.state === state);
  }

  get size(): number {
    return this.byId.size;
  }

  census(): InstanceCensus {
    const c = { starting: 0, ready: 0, draining: 0 };
    for (const i of this.byId.values()) if (i.state !== 'stopped') c[i.state] += 1;
    return c;
  }

  /** Endpoints routers should know: ready (HEALTHY) and draining (DRAINING). */
  routable(): RoutableInstance[] {
    const out: RoutableInstance[] = [];
    for (const i of this.byId.values()) {
      if ((i.state === 'ready' || i.state === 'draining') && i.endpoint) out.push({ id: i.id, ...i.endpoint, status: i.state });
    }
    return out;
  }
}
