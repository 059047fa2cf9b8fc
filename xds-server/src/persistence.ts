/**
 * Optional persistence of desired state in Redis (hash redisKeys(stack).xdsDesired), so a
 * restarted xds-server serves the same state. Stored entries are re-validated on load.
 */
import Redis from 'ioredis';
import { redisKeys, type FunctionRouteSpec, type Logger } from '@faas/contracts';
import { validateSpec } from './control-api-input';

export interface DesiredStore {
  load(): Promise<FunctionRouteSpec[]>;
  save(changes: ReadonlyMap<string, FunctionRouteSpec | null>): Promise<void>;
  /**
   * Where the whole desired state is read when the store must be rewritten: after the
   * Redis connection comes back (a restarted Redis may have lost the hash, and saves
   * made while it was down failed), every spec is written again.
   */
  follow(current: () => readonly FunctionRouteSpec[]): void;
  close(): Promise<void>;
}

export function redisDesiredStore(url: string, stack: string, logger: Logger): DesiredStore {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  redis.on('error', (err: Error) => logger.warn('redis_error', { message: err.message }));
  const key = redisKeys(stack).xdsDesired;
  let connected: Promise<void> | undefined;
  const ready = () => (connected ??= redis.connect());
  let current: (() => readonly FunctionRouteSpec[]) | null = null;
  let readyCount = 0;
  const rewrite = async (): Promise<void> => {
    if (current === null) return;
    const specs = current();
    const m = redis.multi().del(key);
    for (const spec of specs) m.hset(key, spec.name, JSON.stringify(spec));
    await m.exec();
    logger.info('desired_state_rewritten', { functions: specs.length });
  };
  redis.on('ready', () => {
    // The first ready is the initial connect (load() reads what is there); later ones are reconnects.
    if (++readyCount === 1) return;
    rewrite().catch((err: Error) => logger.error('persist_failed', { message: err.message, after: 'reconnect' }));
  });
  return {
    follow(fn) {
      current = fn;
    },
    async load() {
      await ready();
      const all = await redis.hgetall(key);
      const out: FunctionRouteSpec[] = [];
      for (const [fn, json] of Object.entries(all)) {
        try {
          out.push(validateSpec(JSON.parse(json), fn));
        } catch (err) {
          logger.warn('desired_state_skipped', { fn, message: (err as Error).message });
        }
      }
      return out;
    },
    async save(changes) {
      await ready();
      const m = redis.multi();
      for (const [fn, spec] of changes) {
        if (spec === null) m.hdel(key, fn);
        else m.hset(key, fn, JSON.stringify(spec));
      }
      await m.exec();
    },
    async close() {
      if (connected !== undefined) await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}
