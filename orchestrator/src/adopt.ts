/**
 * Start-up reconciliation of containers this stack left behind (a crash, a restart): keep
 * those that run the current image and answer ready, or sit current in their warm tier (paused,
 * created); drain running ones of another version of a defined function (a rollout interrupted
 * by the crash: they may still have requests in flight); remove every other one.
 */
import type { Logger, WarmTier } from '@faas/contracts';
import type { InstanceDriver, OwnedContainer } from './docker-driver';
import type { FunctionController } from './function-controller';
import { containerConfigHash } from './config-hash';
import { finishDrain } from './drain';
import { waitReady } from './probe';

export type AdoptDecision = { action: 'adopt' } | { action: 'drain'; reason: string } | { action: 'remove'; reason: string };

export interface CurrentBuild {
  version: string;
  /** Image tag of the current build; undefined when the build failed. */
  image: string | undefined;
  /** containerConfigHash of the current definition. */
  configHash: string;
  /** The definition's warm tier: paused / created containers are kept only for their own tier. */
  warm: WarmTier;
}

/** A warm tier's container holds no request: kept only when current in every respect. */
function warmDecision(c: OwnedContainer, want: CurrentBuild): AdoptDecision {
  if (c.paused && want.warm !== 'paused') return { action: 'remove', reason: 'paused, but the function has no paused tier now' };
  if (c.created && want.warm !== 'created') return { action: 'remove', reason: 'created, but the function has no created tier now' };
  if (c.version !== want.version) return { action: 'remove', reason: `version ${c.version} is not the current ${want.version}` };
  if (want.image === undefined || c.image !== want.image) return { action: 'remove', reason: 'image is not the current build' };
  if (c.configHash !== want.configHash) return { action: 'remove', reason: 'created with other limits, env or handler' };
  return { action: 'adopt' };
}

/** Pure part: may this container be kept, given what is defined now? */
export function adoptDecision(c: OwnedContainer, current: ReadonlyMap<string, CurrentBuild>): AdoptDecision {
  const want = current.get(c.fn);
  if (!want) return { action: 'remove', reason: 'function no longer defined' };
  if (!c.instanceId) return { action: 'remove', reason: 'no instance label' };
  if (c.paused || c.created) return warmDecision(c, want);
  if (!c.running) return { action: 'remove', reason: 'not running' };
  // The current version could not be built: what runs keeps serving (a failed build never
  // takes the previous version down, also across a restart).
  if (want.image === undefined) return { action: 'adopt' };
  // Never adopted as current, but it may be serving requests of the old version: drained.
  if (c.version !== want.version) return { action: 'drain', reason: `version ${c.version} is not the current ${want.version}` };
  if (c.image !== want.image) return { action: 'drain', reason: 'image is not the current build' };
  // Limits, concurrency, timeout and env are fixed at create time: another hash is another config.
  if (c.configHash !== want.configHash) return { action: 'drain', reason: 'created with other limits, env or handler' };
  return { action: 'adopt' };
}

export async function adoptOrRemove(
  driver: InstanceDriver,
  controllers: ReadonlyMap<string, FunctionController>,
  images: ReadonlyMap<string, string | undefined>,
  log: Logger,
): Promise<{ adopted: number; removed: number }> {
  const current = new Map<string, CurrentBuild>([...controllers].map(([fn, c]) => [fn, { version: c.def.version, image: images.get(fn), configHash: containerConfigHash(c.def), warm: c.def.warm }]));
  let adopted = 0;
  let removed = 0;
  for (const c of await driver.listOwned()) {
    let decision = adoptDecision(c, current);
    const ctl = controllers.get(c.fn);
    if (decision.action === 'adopt' && ctl && c.created) {
      // Never started: no address yet, nothing to probe.
      ctl.adopt({ id: c.instanceId, containerId: c.containerId, address: '', port: 0, version: c.version, tier: 'created' });
      adopted += 1;
      continue;
    }
    if (decision.action !== 'remove' && ctl) {
      const loc = await driver.locate(c.containerId).catch((err: unknown) => {
        log.warn('container_locate_failed', { fn: c.fn, containerId: c.containerId, error: err });
        return undefined;
      });
      try {
        if (!loc) throw new Error('no address');
        // A frozen runtime cannot answer; its readiness is checked when a wake unpauses it.
        if (!c.paused) await waitReady(loc.address, loc.port, 2000);
        ctl.adopt({ id: c.instanceId, containerId: c.containerId, ...loc, version: c.version, ...(c.paused ? { tier: 'paused' as const } : { state: decision.action === 'drain' ? 'draining' as const : 'ready' as const }) });
        if (decision.action === 'drain') log.info('container_draining_at_start', { fn: c.fn, containerId: c.containerId, version: c.version, reason: decision.reason });
        adopted += 1;
        continue;
      } catch (err) {
        decision = { action: 'remove', reason: `not ready: ${(err as Error).message}` };
      }
    }
    log.info('container_removed_at_start', { fn: c.fn, containerId: c.containerId, reason: decision.action === 'adopt' ? '' : decision.reason });
    await driver.stop(c.containerId, 0);
    removed += 1;
  }
  return { adopted, removed };
}

/** After registration (their DRAINING endpoints are pushed): drain and stop the other versions' containers. */
export function drainLeftovers(ctl: FunctionController): Promise<void> {
  return Promise.all(ctl.set.inState('draining').map((i) => finishDrain(ctl, i))).then(() => undefined);
}
