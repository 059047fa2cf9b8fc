/**
 * The paused warm tier's I/O (issue 11); what to do is decided in autoscaler/tier-choice.ts.
 *   - retire: a drained instance whose endpoint the routers ACKed as withdrawn is frozen
 *     (docker pause) into state 'paused' instead of being removed, budget permitting;
 *   - add: a wake or scale-up unpauses a paused instance of the current version, probes its
 *     readiness and registers it like a new one; when none is left (or an unpause fails, e.g.
 *     the container was removed behind our back) it starts a new container;
 *   - evict: TTL expiry, stale version, budget (warm-pool.ts), stack stop: the container goes;
 *   - `warm: created`: the drained instance is removed and a container pre-created (docker
 *     create) in its place, state 'created'; a wake starts it instead of create + start.
 * A frozen runtime keeps its sockets and counters (it was drained: nothing in flight); its
 * timers fire on thaw, before it answers the readiness probe, so the endpoint is registered
 * only after any keep-alive timeout has already closed idle connections.
 */
import type { EvictReason, PausedEntry } from './autoscaler/tier-choice';
import { afterDrain, chooseUnpause } from './autoscaler/tier-choice';
import type { ControllerContext } from './controller-context';
import type { Instance } from './instance-set';
import { bringUp, startInstance } from './scale-up';
import type { PausedSource } from './warm-pool';

export function pausedEntries(ctx: ControllerContext): PausedEntry[] {
  return ctx.set.all().flatMap((i) => ((i.state === 'paused' || i.state === 'created') && i.warm ? [{
    key: `${ctx.def.name}/${i.id}`, fn: ctx.def.name, instanceId: i.id, tier: i.state, memoryMb: i.state === 'paused' ? ctx.def.memoryMb : 0,
    pausedAt: i.warm.pausedAt, ttlMs: ctx.def.pausedTtlMs, version: i.warm.version, currentVersion: ctx.def.version,
  }] : []));
}

/** What a controller registers with the global pool. */
export function pausedSource(ctx: ControllerContext): PausedSource {
  return { fn: ctx.def.name, entries: () => pausedEntries(ctx), evict: (id, reason) => evictPaused(ctx, id, reason) };
}

/**
 * The end of a drain (drain.ts): withdraw the endpoint (routers ACK), then pause or remove (and
 * pre-create for `warm: created`). `drained`: zero in flight was reached (not the deadline). A
 * withdrawal the routers did not confirm means removal: a container is frozen only after the ACK.
 */
export async function retireDrained(ctx: ControllerContext, inst: Instance, drained: boolean): Promise<void> {
  const { deps } = ctx;
  const log = ctx.log.child({ instance: inst.id });
  const plan = afterDrain({
    // An old version's instance (after a rollout) is never kept warm: a wake must get the current one.
    warm: inst.version === ctx.def.version ? ctx.def.warm : 'none', drained, memoryMb: ctx.def.memoryMb, budgetMb: deps.warmPool.budgetMb, paused: deps.warmPool.entries(), now: deps.now(),
    created: ctx.set.inState('created').length, maxInstances: ctx.def.scaling.maxInstances,
  });
  // Not routable either way ('paused' keeps the record, without `warm` until frozen). Its last
  // figures go: stale in-flight counts would read as demand (observe.ts) for as long as it sleeps.
  ctx.set.transition(inst, plan.action === 'pause' ? 'paused' : 'stopped', deps.now());
  inst.stats = undefined;
  let withdrawn = true;
  await ctx.push().catch((err: unknown) => {
    withdrawn = false;
    log.warn('endpoint_withdraw_failed', { error: err });
  });
  const containerId = inst.containerId;
  if (!containerId) return;
  if (plan.action === 'pause' && withdrawn && inst.state === 'paused') {
    try {
      await deps.warmPool.evict(plan.evict);
      await freeze(ctx, containerId);
      // Died or evicted meanwhile (instanceDied, shutdown): not ours to mark.
      if (ctx.set.get(inst.id) === inst && inst.state === 'paused') {
        inst.warm = { pausedAt: deps.now(), version: inst.version };
        log.info('instance_paused', { containerId, ttlMs: ctx.def.pausedTtlMs, memoryMb: ctx.def.memoryMb, evicted: plan.evict.length });
        ctx.publishCounts();
        return;
      }
    } catch (err) {
      log.warn('instance_pause_failed', { containerId, error: err });
    }
  } else if (plan.action === 'remove') {
    log.debug('instance_not_paused', { reason: plan.reason });
  }
  if (ctx.set.get(inst.id) === inst) ctx.set.transition(inst, 'stopped', deps.now());
  await deps.driver.stop(containerId, Math.ceil(ctx.def.timeoutMs / 1000));
  if (plan.action === 'remove' && plan.precreate) await precreate(ctx).catch((err: unknown) => log.warn('precreate_failed', { error: err }));
}

/** The created tier: a container made ahead of time (docker create), started by a wake. */
async function precreate(ctx: ControllerContext): Promise<void> {
  const { deps, def } = ctx;
  const inst: Instance = { id: deps.newInstanceId(), version: def.version, containerId: undefined, endpoint: undefined, state: 'created', since: deps.now(), stats: undefined, statsFailures: 0 };
  ctx.set.add(inst);
  try {
    const containerId = await deps.driver.create({ def, image: await deps.image(def), instanceId: inst.id });
    inst.containerId = containerId;
    if (ctx.set.get(inst.id) !== inst) throw new Error('shutting down');
    inst.warm = { pausedAt: deps.now(), version: def.version };
    ctx.log.info('instance_precreated', { instance: inst.id, containerId });
  } catch (err) {
    ctx.set.transition(inst, 'stopped', deps.now());
    if (inst.containerId) await deps.driver.stop(inst.containerId, 0);
    throw err;
  }
}

/** Pause attempts: the freezer can time out on a starved machine ("unable to freeze"); runc thaws it again. */
const FREEZE_ATTEMPTS = 3;

async function freeze(ctx: ControllerContext, containerId: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await ctx.deps.driver.pause(containerId);
      return;
    } catch (err) {
      if (attempt >= FREEZE_ATTEMPTS) throw err;
      ctx.log.debug('instance_pause_retry', { containerId, attempt, error: err });
      await ctx.deps.sleep(100 * attempt);
    }
  }
}

/** Remove a paused instance (no-op when it is no longer paused: idempotent, races are fine). */
export async function evictPaused(ctx: ControllerContext, instanceId: string, reason: EvictReason): Promise<void> {
  const inst = ctx.set.get(instanceId);
  if (!inst || (inst.state !== 'paused' && inst.state !== 'created') || !inst.warm || !inst.containerId) return;
  ctx.set.transition(inst, 'stopped', ctx.deps.now());
  ctx.log.info('paused_instance_removed', { instance: inst.id, containerId: inst.containerId, tier: inst.state, reason, pausedMs: ctx.deps.now() - inst.warm.pausedAt });
  // Frozen and drained: nothing to finish, SIGKILL at once (Docker kills a paused container).
  await ctx.deps.driver.stop(inst.containerId, 0);
  ctx.publishCounts();
}

/** One more instance for a wake or a scale-up: a paused one when there is one, else a new container. */
export async function addInstance(ctx: ControllerContext, requestId: string, cold: boolean): Promise<Instance> {
  const pick = chooseUnpause(pausedEntries(ctx), 1)[0];
  const inst = pick ? ctx.set.get(pick.instanceId) : undefined;
  if (pick && inst?.containerId && (inst.endpoint || pick.tier === 'created') && inst.warm) {
    // Synchronously out of 'paused': a concurrent wake can no longer choose it.
    const t0 = ctx.deps.now();
    const pausedMs = t0 - inst.warm.pausedAt;
    const containerId = inst.containerId;
    inst.warm = undefined;
    ctx.set.transition(inst, 'starting', t0);
    // A paused container's endpoint goes to the routers while it thaws (instance-set.ts routeEarly).
    if (pick.tier === 'paused') inst.routeEarly = true;
    ctx.publishCounts();
    try {
      return await bringUp(ctx, inst, { requestId, cold, tier: pick.tier, t0, publishOnFailure: false }, async () => {
        const from = ctx.deps.now();
        if (pick.tier === 'created') inst.endpoint = await ctx.deps.driver.startCreated(containerId, ctx.def);
        else await ctx.deps.driver.unpause(containerId);
        return { containerFrom: from, extra: { pausedMs } };
      });
    } catch (err) {
      // bringUp removed the container and logged; a normal cold start replaces it.
      ctx.log.warn('unpause_fallback', { instance: inst.id, requestId, error: err });
    }
  }
  return startInstance(ctx, requestId, cold);
}

/** Stack stop: paused and created instances have nothing to drain (and cannot answer a stats read). */
export async function removeAllPaused(ctx: ControllerContext): Promise<void> {
  const paused = [...ctx.set.inState('paused'), ...ctx.set.inState('created')];
  await Promise.all(paused.map(async (i) => {
    ctx.set.transition(i, 'stopped', ctx.deps.now());
    if (i.containerId) await ctx.deps.driver.stop(i.containerId, 0).catch((err: unknown) => ctx.log.error('container_leak', { instance: i.id, containerId: i.containerId, error: err }));
  }));
}
