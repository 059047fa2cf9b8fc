/**
 * Removal of a function that left the definitions, without failing a request in flight:
 *   1. its state is deleted from Redis: gateways answer new requests 404 unknown_function, and
 *      requests held on the wake path get the same (redis-rest settles them 'gone');
 *   2. a gateway grace, so requests already past the gateway reach the HEALTHY endpoints;
 *   3. every instance DRAINING (ACKed), in-flight requests finish (bounded by the timeout),
 *      endpoints withdrawn, containers stopped;
 *   4. the cluster and route are removed from every router; the state is deleted once more
 *      (a write that raced step 1 must not bring the function back).
 */
import type { FunctionController } from './function-controller';
import type { FunctionRollouts } from './rollout';
import { drainAll } from './shutdown';

export interface RetireTargets {
  xds: { remove(fn: string): Promise<unknown> };
  state: { remove(fn: string): Promise<void> };
}

export async function retireFunction(ctl: FunctionController, rollouts: FunctionRollouts, t: RetireTargets): Promise<void> {
  const fn = ctl.def.name;
  const { deps, log } = ctl;
  const t0 = deps.now();
  log.info('function_remove_begin', { instances: ctl.set.size });
  ctl.closed = true;
  ctl.retired = true;
  rollouts.cancel();
  // Redis down: the instances still drain; the removal at the end tries again.
  await t.state.remove(fn).catch((err: unknown) => log.warn('state_remove_failed', { error: err }));
  await deps.sleep(deps.gatewayGraceMs);
  // Starts and drains already running finish first (their state writes are no-ops now).
  await Promise.all([ctl.settled(), rollouts.settled()]);
  await drainAll(ctl, Math.ceil(ctl.def.timeoutMs / 1000));
  await t.xds.remove(fn);
  await t.state.remove(fn);
  log.info('function_removed', { totalMs: deps.now() - t0 });
}
