/**
 * The periodic repair of router state: what each controller wants (cluster settings and
 * endpoints) against what xds-server holds. Anything missing, tampered with (another endpoint,
 * health, timeout) or left over is pushed again or removed.
 */
import type { FunctionRouteSpec, Logger } from '@faas/contracts';

/** Why `have` is not `want`, or undefined when they match. Pure. */
export function routeDifference(want: FunctionRouteSpec, have: FunctionRouteSpec | undefined): string | undefined {
  if (!have) return 'missing';
  if (have.timeoutMs !== want.timeoutMs) return 'timeout differs';
  if (have.concurrency !== want.concurrency) return 'concurrency differs';
  const key = (e: FunctionRouteSpec['endpoints'][number]) => `${e.id}|${e.address}|${e.port}|${e.health}`;
  const a = want.endpoints.map(key).sort();
  const b = have.endpoints.map(key).sort();
  if (a.length !== b.length || a.some((k, i) => k !== b[i])) return 'endpoints differ';
  return undefined;
}

export interface RouteOwner {
  readonly def: { name: string };
  desiredRoute(): FunctionRouteSpec;
  /** Push the current desired state and wait for the routers' ACK. */
  push(): Promise<void>;
}

export interface RouteStore {
  list(): Promise<FunctionRouteSpec[]>;
  remove(fn: string): Promise<unknown>;
}

/** One reconcile round; returns the functions repaired. */
export async function reconcileRoutes(owners: ReadonlyMap<string, RouteOwner>, xds: RouteStore, log: Logger): Promise<string[]> {
  const held = new Map((await xds.list()).map((f) => [f.name, f]));
  const repaired: string[] = [];
  await Promise.all([...owners.values()].map(async (o) => {
    const why = routeDifference(o.desiredRoute(), held.get(o.def.name));
    if (!why) return;
    // A push in flight can make the two differ for a moment: pushing again is harmless.
    // 'missing': xds-server restarted without its desired state (the name operators know).
    log.warn(why === 'missing' ? 'router_state_lost_registering' : 'router_state_repaired', { fn: o.def.name, reason: why });
    repaired.push(o.def.name);
    await o.push().catch((err: unknown) => log.warn('router_state_repair_failed', { fn: o.def.name, error: err }));
  }));
  for (const name of held.keys()) {
    if (owners.has(name)) continue;
    log.warn('router_state_repaired', { fn: name, reason: 'not defined' });
    await xds.remove(name).catch((err: unknown) => log.warn('xds_remove_failed', { fn: name, error: err }));
  }
  return repaired;
}
