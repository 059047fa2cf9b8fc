/**
 * Remove one instance without losing a request, in this order:
 *   1. draining: endpoint DRAINING, wait for every router's ACK (no new requests reach it);
 *   2. wait until the runtime reports zero in flight, or the drain deadline (logged);
 *   3. endpoint withdrawn (ACKed);
 *   4. paused (warm tier, warm-tier.ts), or SIGTERM with a grace period and the container removed.
 */
import type { ControllerContext } from './controller-context';
import type { Instance } from './instance-set';
import { retireDrained } from './warm-tier';

export type DrainOutcome = 'drained' | 'gone' | 'deadline';

/** Wait for zero in flight. A failed read ends the wait only when the container is gone. */
export async function waitDrained(ctx: ControllerContext, inst: Instance, timeoutMs = ctx.def.timeoutMs): Promise<DrainOutcome> {
  const { deps } = ctx;
  const deadline = deps.now() + timeoutMs;
  const { endpoint, containerId } = inst;
  if (!endpoint || !containerId) return 'gone';
  while (deps.now() < deadline) {
    try {
      if ((await deps.probe.readStats(endpoint.address, endpoint.port)).inflight === 0) return 'drained';
    } catch (err) {
      // A busy handler can starve the stats endpoint: keep waiting unless the container is gone.
      if (!(await deps.driver.isRunning(containerId))) return 'gone';
      ctx.log.debug('drain_stats_unreadable', { instance: inst.id, error: err });
    }
    await deps.sleep(deps.drainPollMs);
  }
  ctx.log.warn('drain_deadline', { instance: inst.id, timeoutMs });
  return 'deadline';
}

/** Steps 1-4. False when the routers did not take the drain (the instance keeps serving). */
export async function drainAndRemove(ctx: ControllerContext, inst: Instance): Promise<boolean> {
  const { deps } = ctx;
  const log = ctx.log.child({ instance: inst.id });
  ctx.set.transition(inst, 'draining', deps.now());
  try {
    await ctx.push();
  } catch (err) {
    // Cutting traffic without the routers' ACK could fail requests: keep serving instead.
    if (inst.state === 'draining') ctx.set.transition(inst, 'ready', deps.now());
    ctx.publishCounts();
    log.warn('scale_down_aborted', { error: err });
    return false;
  }
  ctx.publishCounts();
  const outcome = await waitDrained(ctx, inst);
  // Withdrawn (ACKed), then paused (warm tier) or stopped: warm-tier.ts.
  await retireDrained(ctx, inst, outcome === 'drained');
  log.info('instance_drained', { outcome, state: inst.state });
  return true;
}

/** Steps 2-4, for an instance whose DRAINING endpoint every router already ACKed (also a rollout's switch). */
export async function finishDrain(ctx: ControllerContext, inst: Instance, timeoutMs = ctx.def.timeoutMs): Promise<DrainOutcome> {
  const { deps } = ctx;
  const outcome = await waitDrained(ctx, inst, timeoutMs);
  ctx.set.transition(inst, 'stopped', deps.now());
  await ctx.push().catch((err: unknown) => ctx.log.warn('endpoint_withdraw_failed', { instance: inst.id, error: err }));
  if (inst.containerId) await deps.driver.stop(inst.containerId, Math.ceil(timeoutMs / 1000));
  ctx.log.info('instance_drained', { instance: inst.id, version: inst.version, outcome });
  return outcome;
}
