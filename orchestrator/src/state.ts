/**
 * The function states gateways see, in Redis: HSET + INCR rev + PUBLISH in one Lua script, so a
 * reader that saw rev N has also seen every change up to N (contracts/redis-keys.ts).
 */
import type { Redis } from 'ioredis';
import {
  DELETE_FUNCTION_STATE_LUA, SET_FUNCTION_STATE_LUA,
  COLD_START_HISTORY, type ColdStartRecord, type FunctionState, type FunctionStateRecord, type InstanceCounts, HEARTBEAT_TTL_SECONDS,
  type RedisKeys, type WakeTier, coldStartsKey,
} from '@faas/contracts';


export class StateStore {
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly stack: string,
    private readonly onError: (what: string, err: unknown) => void,
  ) {}

  async set(fn: string, version: string, state: FunctionState, counts: InstanceCounts, wakeTier?: WakeTier): Promise<number> {
    const rec: FunctionStateRecord = { name: fn, version, state, readyInstances: counts.ready, instances: counts, ...(wakeTier ? { wakeTier } : {}), updatedAt: Date.now() };
    return Number(await this.redis.eval(SET_FUNCTION_STATE_LUA, 2, this.keys.functions, this.keys.stateRev, fn, JSON.stringify(rec), this.keys.stateChannel, state, wakeTier ?? ''));
  }

  async remove(fn: string): Promise<void> {
    await this.redis.eval(DELETE_FUNCTION_STATE_LUA, 2, this.keys.functions, this.keys.stateRev, fn, this.keys.stateChannel);
  }

  /** False when Redis lost the states (restarted without persistence, flushed). */
  async hasStates(): Promise<boolean> {
    return (await this.redis.exists(this.keys.functions)) === 1;
  }

  async names(): Promise<string[]> {
    return this.redis.hkeys(this.keys.functions);
  }

  async recordColdStart(r: ColdStartRecord): Promise<void> {
    const key = coldStartsKey(this.stack);
    await this.redis.multi().lpush(key, JSON.stringify(r)).ltrim(key, 0, COLD_START_HISTORY - 1).exec();
  }

  /** Keep the heartbeat key alive; redis-rest answers 503 while it is missing. */
  startHeartbeat(): void {
    const value = JSON.stringify({ pid: process.pid, startedAt: Date.now() });
    const beat = () => {
      this.redis
        .set(this.keys.orchestratorHeartbeat, value, 'EX', HEARTBEAT_TTL_SECONDS)
        .catch((err: unknown) => this.onError('heartbeat', err));
    };
    beat();
    this.heartbeat = setInterval(beat, (HEARTBEAT_TTL_SECONDS * 1000) / 3);
  }

  async stopHeartbeat(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.redis.del(this.keys.orchestratorHeartbeat).catch((err: unknown) => this.onError('heartbeat removal', err));
  }
}
