/**
 * Start-up reconciliation of containers this stack left behind (a crash, a restart): keep
 * those that run the current image and answer ready; drain those of another version of a
 * defined function (a rollout interrupted by the crash: they may still have requests in
 * flight), remove every other one.
 */
import type { Logger } from '@faas/contracts';
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
}

/** Pure part: may this container be kept, given what is defined now? */
export function adoptDecision(c: OwnedContainer, current: ReadonlyMap<string, CurrentBuild>): AdoptDecision {
  const want = current.get(c.fn);
  if (!want) return { action: 'remove', reason: 'function no longer defined' };
  if (!c.running) return { action: 'remove', reason: 'not running' };
  if (!c.instanceId) return { action: 'remove', reason: 'no instance label' };
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
  const current = new Map<string, CurrentBuild>([...controllers].map(([fn, c]) => [fn, { version: c.def.version, image: images.get(fn), configHash: containerConfigHash(c.def) }]));
  let adopted = 0;
  let removed = 0;
  for (const c of await driver.listOwned()) {
    let decision = adoptDecision(c, current);
    const ctl = controllers.get(c.fn);
    if (decision.action !== 'remove' && ctl) {
      const loc = await driver.locate(c.containerId).catch((err: unknown) => {
        log.warn('container_locate_failed', { fn: c.fn, containerId: c.containerId, error: err });
        return undefined;
      });
      try {
        if (!loc) throw new Error('no address');
        await waitReady(loc.address, loc.port, 2000);
        ctl.adopt({ id: c.instanceId, containerId: c.containerId, ...loc, version: c.version, state: decision.action === 'drain' ? 'draining' : 'ready' });
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
