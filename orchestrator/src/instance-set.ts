/**
 * One function's instances and their lifecycle states. Transitions (and nothing else):
 *
 *   starting ──ready probe + every router ACKed──> ready ──drain chosen──> draining ──> stopped
 *       │  ^                                                                  │   ^
 *       │  └── wake: unpause, ready probe ── paused <── withdrawn (ACKed) ────┘   │
 *       │                                      └── TTL / budget / stale version ──┤
 *       └──────────── start failed / died ────────────────────────────────────────┘
 *
 * - starting: container being created, started, probed; counts as capacity being added,
 *   never routable.
 * - ready: HEALTHY endpoint ACKed by every router; serves traffic.
 * - draining: DRAINING endpoint (ACKed): no new requests, in-flight ones finish.
 * - paused (warm tier, `warm: paused`): drained, endpoint withdrawn and ACKed, then frozen by
 *   docker pause; never routable, not capacity (not in the census nor in `size`). A wake turns
 *   it back into starting (unpause, probe) instead of creating a container (warm-tier.ts).
 * - created (warm tier, `warm: created`): a container made by docker create after a drained
 *   instance was removed; a wake starts it (no endpoint until then). Like paused otherwise.
 * - stopped: endpoint withdrawn, container stopped; the record leaves the set.
 */
import type { InstanceCensus } from './autoscaler/types';
import type { InstanceStats } from './probe';
import type { RoutableInstance } from './route-spec';

export type InstanceState = 'starting' | 'ready' | 'draining' | 'paused' | 'created' | 'stopped';

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
  /** Set once docker pause (state 'paused') or create (state 'created') finished; only then can a wake take it. */
  warm?: { pausedAt: number; version: string };
  /**
   * A 'starting' instance whose endpoint routers may have while its container step runs: a
   * thawing container (docker unpause) keeps its listening socket, so a connection that arrives
   * mid-thaw waits in the kernel's accept queue and is served once the runtime runs again.
   */
  routeEarly?: boolean;
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

  /** Instances holding or adding capacity (paused ones excluded: they count against max_instances only once woken). */
  get size(): number {
    let n = 0;
    for (const i of this.byId.values()) if (i.state !== 'paused' && i.state !== 'created') n += 1;
    return n;
  }

  census(): InstanceCensus {
    const c = { starting: 0, ready: 0, draining: 0 };
    for (const i of this.byId.values()) if (i.state === 'starting' || i.state === 'ready' || i.state === 'draining') c[i.state] += 1;
    return c;
  }

  /** Endpoints routers should know: ready (HEALTHY), draining (DRAINING) and thawing ones (HEALTHY, `routeEarly`). */
  routable(): RoutableInstance[] {
    const out: RoutableInstance[] = [];
    for (const i of this.byId.values()) {
      if (!i.endpoint) continue;
      if (i.state === 'ready' || i.state === 'draining') out.push({ id: i.id, ...i.endpoint, status: i.state });
      else if (i.state === 'starting' && i.routeEarly) out.push({ id: i.id, ...i.endpoint, status: 'ready' });
    }
    return out;
  }
}
