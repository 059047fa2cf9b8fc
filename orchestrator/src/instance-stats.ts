/** Each tick's read of every instance's runtime figures (in flight, idle), and the dead-instance rule. */
import type { ControllerContext } from './controller-context';

/** Consecutive failed stats reads after which Docker is asked whether the container still runs. */
export const DEAD_AFTER_FAILED_READS = 3;

/** Reads stats of every running instance; calls `dead` for one that stopped answering and no longer runs. */
export async function refreshStats(ctx: ControllerContext, dead: (containerId: string) => void): Promise<void> {
  await Promise.all(ctx.set.all().map(async (i) => {
    // Starting: not answering yet; paused: frozen (its figures were dropped at the pause).
    if (!i.endpoint || !i.containerId || i.state === 'starting' || i.state === 'paused') return;
    const containerId = i.containerId;
    try {
      i.stats = await ctx.deps.probe.readStats(i.endpoint.address, i.endpoint.port);
      i.statsFailures = 0;
    } catch (err) {
      i.statsFailures += 1;
      ctx.log.debug('stats_unreadable', { instance: i.id, failures: i.statsFailures, error: err });
      if (i.statsFailures >= DEAD_AFTER_FAILED_READS && !(await ctx.deps.driver.isRunning(containerId))) dead(containerId);
    }
  }));
}
