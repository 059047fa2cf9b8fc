/**
 * New-version instances of a rollout before the switch: created, started and probed ready,
 * but kept in the 'starting' state, so they are never routed, counted as capacity being
 * added (the autoscaler neither adds nor removes meanwhile) and cleaned up by the rollout.
 * Not scale-up.ts: that one makes an instance routable as soon as it is ready.
 */
import type { FunctionDefinition } from '@faas/contracts';
import type { ControllerContext } from './controller-context';
import type { Instance } from './instance-set';

export async function startStandby(ctx: ControllerContext, def: FunctionDefinition, image: string): Promise<Instance> {
  const { deps, set } = ctx;
  const inst: Instance = { id: deps.newInstanceId(), version: def.version, containerId: undefined, endpoint: undefined, state: 'starting', since: deps.now(), stats: undefined, statsFailures: 0 };
  set.add(inst);
  ctx.publishCounts();
  try {
    const run = await deps.driver.start({ def, image, instanceId: inst.id });
    inst.containerId = run.containerId;
    inst.endpoint = { address: run.address, port: run.port };
    await deps.probe.waitReady(run.address, run.port, deps.readinessTimeoutMs, () => deps.driver.isRunning(run.containerId));
    if (set.get(inst.id) !== inst) throw new Error('instance left the set before it was ready');
    ctx.log.info('rollout_instance_ready', { instance: inst.id, version: def.version, readyMs: deps.now() - inst.since });
    return inst;
  } catch (err) {
    await stopStandby(ctx, [inst]);
    throw err;
  }
}

/** Remove standby instances that will not be switched to (failed, superseded, died). */
export async function stopStandby(ctx: ControllerContext, list: readonly Instance[]): Promise<void> {
  for (const inst of list) ctx.set.transition(inst, 'stopped', ctx.deps.now());
  ctx.publishCounts();
  await Promise.all(list.map(async (inst) => {
    if (!inst.containerId) return;
    await ctx.deps.driver.stop(inst.containerId, 0).catch((err: unknown) => ctx.log.error('container_leak', { instance: inst.id, containerId: inst.containerId, error: err }));
  }));
}

/** The standby instances whose containers still run (one may have died since it was ready). */
export async function liveStandby(ctx: ControllerContext, list: readonly Instance[]): Promise<{ live: Instance[]; dead: Instance[] }> {
  const running = await Promise.all(list.map((i) => (i.containerId ? ctx.deps.driver.isRunning(i.containerId) : Promise.resolve(false))));
  return { live: list.filter((_, k) => running[k]), dead: list.filter((_, k) => !running[k]) };
}
