/** Router metrics of every function from Redis (statsd-listener's `metrics:<fn>`), one pipeline per tick. */
import type { Redis } from 'ioredis';
import { type FunctionMetrics, type RedisKeys, parseFunctionMetrics } from '@faas/contracts';

export async function readAllMetrics(redis: Redis, keys: RedisKeys, fns: readonly string[]): Promise<Map<string, FunctionMetrics | undefined>> {
  const p = redis.pipeline();
  for (const fn of fns) p.hgetall(keys.metrics(fn));
  const results = (await p.exec()) ?? [];
  const out = new Map<string, FunctionMetrics | undefined>();
  fns.forEach((fn, i) => {
    const [err, hash] = results[i] ?? [null, null];
    // A failed or malformed read is no data: the autoscaler treats it as stale and holds.
    out.set(fn, err ? undefined : parseFunctionMetrics(hash as Record<string, string> | null));
  });
  return out;
}
