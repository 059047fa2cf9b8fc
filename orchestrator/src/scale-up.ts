/**
 * Start one instance: starting (container created, started, probed) -> ready once every router
 * ACKed its HEALTHY endpoint; only then are gateways told 'warm'. A failure removes what was made.
 * The same bring-up serves an unpaused instance (warm-tier.ts): only the container step differs.
 */
import type { ColdStartRecord, WakeTier } from '@faas/contracts';
import type { ControllerContext } from './controller-context';
import type { Instance } from './instance-set';

export async function startInstance(ctx: ControllerContext, requestId: string, cold: boolean): Promise<Instance> {
  const { deps, def } = ctx;
  const t0 = deps.now();
  const inst: Instance = { id: deps.newInstanceId(), version: def.version, containerId: undefined, endpoint: undefined, state: 'starting', since: t0, stats: undefined, statsFailures: 0 };
  ctx.set.add(inst);
  ctx.publishCounts();
  return bringUp(ctx, inst, { requestId, cold, tier: 'cold', t0, publishOnFailure: true }, async () => {
    const image = await deps.image(def);
    const tImage = deps.now();
    const run = await deps.driver.start({ def, image, instanceId: inst.id });
    inst.containerId = run.containerId;
    inst.endpoint = { address: run.address, port: run.port };
    return { containerFrom: tImage, extra: { imageMs: tImage - t0 }, ...(run.sandboxed ? { sandboxed: true } : {}) };
  });
}

export interface BringUp {
  requestId: string;
  /** A wake's start (logged as cold_start, recorded) rather than the autoscaler's. */
  cold: boolean;
  tier: WakeTier;
  t0: number;
  /** Tell gateways the state after a failure (a resume's caller falls back to a start instead). */
  publishOnFailure: boolean;
}

/** The container step: when it began (after any image build), extra log fields, whether it joined a network sandbox. */
type ContainerStep = () => Promise<{ containerFrom: number; extra: Record<string, number>; sandboxed?: boolean }>;

/** Container step, readiness, routers' ACK, 'warm'; on failure the container is removed. */
export async function bringUp(ctx: ControllerContext, inst: Instance, o: BringUp, container: ContainerStep): Promise<Instance> {
  const { deps, def } = ctx;
  const log = ctx.log.child({ requestId: o.requestId });
  // An instance marked `routeEarly` (a thawing one, whose endpoint exists) is pushed beside the
  // container step; its ACK is awaited after readiness, so held requests still wait for both.
  let early: Promise<number> | undefined;
  try {
    if (inst.routeEarly) {
      const tPush = deps.now();
      early = ctx.push().then(() => deps.now() - tPush);
    }
    const { containerFrom, extra, sandboxed } = await container();
    const run = inst.endpoint;
    const containerId = inst.containerId;
    if (!run || !containerId) throw new Error('container has no endpoint');
    const t1 = deps.now();
    await deps.probe.waitReady(run.address, run.port, deps.readinessTimeoutMs, () => deps.driver.isRunning(containerId));
    const t2 = deps.now();
    if (inst.state !== 'starting') throw new Error(`instance left the starting state (${inst.state}) before it was ready`);
    ctx.set.transition(inst, 'ready', t2);
    inst.routeEarly = undefined;
    // The early push already carried this endpoint as HEALTHY: the routers' state is the same.
    const routeAckMs = early ? await early : await ctx.push().then(() => deps.now() - t2);
    // It died while the routers were told (instanceDied withdrew it): not a success.
    if (ctx.set.get(inst.id) !== inst) throw new Error('instance died before it became routable');
    const t3 = deps.now();
    await ctx.publish('warm', o.cold ? o.tier : undefined);
    const rec: ColdStartRecord = {
      fn: def.name, instance: inst.id, requestId: o.requestId, tier: o.tier,
      containerStartMs: t1 - containerFrom, readinessMs: t2 - t1, routeAckMs, totalMs: t3 - o.t0, at: t3,
      ...(early ? { routedEarly: true } : {}),
      ...(sandboxed ? { sandboxed: true } : {}),
    };
    log.info(o.cold ? 'cold_start' : 'scale_up_instance_ready', { ...rec, ...extra });
    if (o.cold) {
      deps.metrics.coldStart(rec);
      await deps.state.recordColdStart(rec).catch((err: unknown) => log.warn('cold_start_record_failed', { error: err }));
    }
    return inst;
  } catch (err) {
    log.error(o.cold ? 'cold_start_failed' : 'scale_up_failed', { instance: inst.id, tier: o.tier, error: err });
    inst.routeEarly = undefined;
    // The withdrawal below supersedes it (RouterPush sends pushes in order); its failure is that one's.
    early?.catch((e: unknown) => log.debug('early_route_push_failed', { instance: inst.id, error: e }));
    ctx.set.transition(inst, 'stopped', deps.now());
    if (inst.containerId) {
      await deps.driver.stop(inst.containerId, 0).catch((e: unknown) => log.error('container_leak', { instance: inst.id, containerId: inst.containerId, error: e }));
    }
    await ctx.push().catch((e: unknown) => log.warn('endpoint_withdraw_failed', { instance: inst.id, error: e }));
    if (o.publishOnFailure) await ctx.publish(ctx.set.census().ready > 0 ? 'warm' : 'cold').catch((e: unknown) => log.warn('state_publish_failed', { error: e }));
    else ctx.publishCounts();
    throw err;
  }
}
