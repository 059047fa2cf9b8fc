/**
 * Start-up reconciliation of containers this stack left behind (a crash, a restart): keep
 * those that run the current image and answer ready, or are paused (warm tier) and current,
 * remove every other one.
 */
import type { Logger, WarmTier } from '@faas/contracts';
import type { InstanceDriver, OwnedContainer } from './docker-driver';
import type { FunctionController } from './function-controller';
import { containerConfigHash } from './config-hash';
import { waitReady } from './probe';

export type AdoptDecision = { action: 'adopt' } | { action: 'remove'; reason: string };

export interface CurrentBuild {
  version: string;
  /** Image tag of the current build; undefined when the build failed. */
  image: string | undefined;
  /** containerConfigHash of the current definition. */
  configHash: string;
  /** The definition's warm tier: paused / created containers are kept only for their own tier. */
  warm: WarmTier;
}

/** Pure part: may this container be kept, given what is defined now? */
export function adoptDecision(c: OwnedContainer, current: ReadonlyMap<string, CurrentBuild>): AdoptDecision {
  const want = current.get(c.fn);
  if (!want) return { action: 'remove', reason: 'function no longer defined' };
  if (!c.running && !c.paused && !c.created) return { action: 'remove', reason: 'not running' };
  if (c.paused && want.warm !== 'paused') return { action: 'remove', reason: 'paused, but the function has no paused tier now' };
  if (c.created && want.warm !== 'created') return { action: 'remove', reason: 'created, but the function has no created tier now' };
  if (c.version !== want.version) return { action: 'remove', reason: `version ${c.version} is not the current ${want.version}` };
  if (want.image === undefined || c.image !== want.image) return { action: 'remove', reason: 'image is not the current build' };
  // Limits, concurrency, timeout and env are fixed at create time: another hash is another config.
  if (c.configHash !== want.configHash) return { action: 'remove', reason: 'created with other limits, env or handler' };
  if (!c.instanceId) return { action: 'remove', reason: 'no instance label' };
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
      ctl.adopt({ id: c.instanceId, containerId: c.containerId, address: '', port: 0, tier: 'created' });
      adopted += 1;
      continue;
    }
    if (decision.action === 'adopt' && ctl) {
      const loc = await driver.locate(c.containerId).catch((err: unknown) => {
        log.warn('container_locate_failed', { fn: c.fn, containerId: c.containerId, error: err });
        return undefined;
      });
      try {
        if (!loc) throw new Error('no address');
        // A frozen runtime cannot answer; its readiness is checked when a wake unpauses it.
        if (!c.paused) await waitReady(loc.address, loc.port, 2000);
        ctl.adopt({ id: c.instanceId, containerId: c.containerId, ...loc, tier: c.paused ? 'paused' : undefined });
        adopted += 1;
        continue;
      } catch (err) {
        decision = { action: 'remove', reason: `not ready: ${(err as Error).message}` };
      }
    }
    log.info('container_removed_at_start', { fn: c.fn, containerId: c.containerId, reason: decision.action === 'remove' ? decision.reason : '' });
    await driver.stop(c.containerId, 0);
    removed += 1;
  }
  return { adopted, removed };
}
