/**
 * Removal of a function's last instance (scale to zero). Gateways are told 'stopping' first and
 * given a grace period, so they hold new requests and wake instead of sending them to an
 * instance about to go; a wake inside the grace cancels the removal. Then the usual drain.
 */
import type { ControllerContext } from './controller-context';
import { drainAndRemove } from './drain';
import type { Instance } from './instance-set';

export interface LastRemovalContext extends ControllerContext {
  stoppingLast: boolean;
  wokenWhileStopping: boolean;
  lastWakeAt: number;
}

/** Runs inside the controller's Serial (a wake's cold start queues behind it). */
export async function lastRemoval(ctx: LastRemovalContext, inst: Instance, reason: string): Promise<void> {
  const { deps, def } = ctx;
  const c = ctx.set.census();
  // Traffic or a new instance may have come since the decision: decide again on fresh figures.
  if (inst.state !== 'ready' || c.ready !== 1 || c.starting > 0 || !inst.endpoint || !inst.containerId) return;
  try {
    const s = await deps.probe.readStats(inst.endpoint.address, inst.endpoint.port);
    const sinceWake = deps.now() - ctx.lastWakeAt;
    if (s.inflight > 0 || s.idleMs < def.scaling.idleTimeoutMs || sinceWake < def.scaling.idleTimeoutMs) return;
  } catch (err) {
    // No figures: a busy handler can starve the stats endpoint. Remove only a dead container.
    if (await deps.driver.isRunning(inst.containerId)) {
      ctx.log.debug('scale_down_skipped', { instance: inst.id, reason: 'stats unreadable', error: err });
      return;
    }
  }
  const log = ctx.log.child({ instance: inst.id });
  log.info('scale_down_begin', { reason, last: true });
  let done = false;
  try {
    ctx.stoppingLast = true;
    ctx.wokenWhileStopping = false;
    await ctx.publish('stopping');
    await deps.sleep(deps.gatewayGraceMs);
    if (ctx.wokenWhileStopping) {
      // Traffic came back before the router was told anything: keep the instance. The held
      // requests reach it only now: that counts as activity from this moment.
      ctx.lastWakeAt = deps.now();
      await ctx.publish('warm');
      log.info('scale_down_cancelled', { reason: 'woken' });
      return;
    }
    done = await drainAndRemove(ctx, inst);
    await ctx.publish(ctx.set.census().ready > 0 ? 'warm' : 'cold');
  } catch (err) {
    // E.g. Redis failed while 'stopping' was written: the instance still serves, so gateways
    // must not be left holding requests for a removal that is not happening.
    if (inst.state === 'ready') {
      await ctx.publish('warm').catch((e: unknown) => log.warn('state_publish_failed', { state: 'warm', error: e }));
    }
    throw err;
  } finally {
    ctx.stoppingLast = false;
  }
  if (done) log.info('scale_down_done', { reason });
}
