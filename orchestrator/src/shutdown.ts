/** A function's part of the orchestrator's shutdown: every instance drains at once, then goes. */
import type { ControllerContext } from './controller-context';
import { waitDrained } from './drain';
import { removeAllPaused } from './warm-tier';

/** Every instance DRAINING (pushed), in-flight requests finish, endpoints withdrawn, containers stopped. */
export async function drainAll(ctx: ControllerContext, graceSeconds: number): Promise<void> {
  const warn = (what: string) => (err: unknown) => ctx.log.warn('shutdown_step_failed', { what, error: err });
  const { deps, set } = ctx;
  // Warm tiers (paused, created) hold no requests: removed at once, without a drain.
  await removeAllPaused(ctx);
  const all = set.all();
  for (const i of all) set.transition(i, 'draining', deps.now());
  await ctx.push().catch(warn('push draining'));
  await Promise.all(all.map((i) => waitDrained(ctx, i)));
  for (const i of all) set.transition(i, 'stopped', deps.now());
  await ctx.push().catch(warn('withdraw endpoints'));
  await Promise.all(all.map(async (i) => {
    if (i.containerId) await deps.driver.stop(i.containerId, graceSeconds).catch((err: unknown) => ctx.log.error('container_leak', { instance: i.id, containerId: i.containerId, error: err }));
  }));
}

/** Gateways hold new requests ('stopping'), routers drain, in-flight requests finish, containers stop. */
export async function shutdownInstances(ctx: ControllerContext): Promise<void> {
  const warn = (what: string) => (err: unknown) => ctx.log.warn('shutdown_step_failed', { what, error: err });
  // First: warm tiers are not in set.size (not capacity), but their containers must go too.
  await removeAllPaused(ctx);
  if (ctx.set.size === 0) {
    await ctx.publish('cold').catch(warn('publish cold'));
    return;
  }
  await ctx.publish('stopping').catch(warn('publish stopping'));
  await drainAll(ctx, 2);
  await ctx.publish('cold').catch(warn('publish cold'));
}
