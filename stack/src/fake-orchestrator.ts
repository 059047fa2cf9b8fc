/**
 * A small fake orchestrator written against the Redis contract only (contracts/redis-keys.ts):
 * it keeps the heartbeat, answers wakes by starting each function at most once (cold -> starting
 * -> warm after startMs) and writes state with HSET + INCR + PUBLISH in one Lua script.
 * Test support for redis-rest's and the gateway's tests ('@faas/stack/dist/src/fake-orchestrator').
 */
import { Redis } from 'ioredis';
import {
  SET_FUNCTION_STATE_LUA,
  type FunctionState, type FunctionStateRecord, HEARTBEAT_TTL_SECONDS, type InstanceFailureRecord, type RedisKeys, type WakeMessage, type WakeTier,
  WakeMessageSchema, instanceFailureKeys, redisKeys,
} from '@faas/contracts';


export interface FakeFunction {
  /** Time from wake to warm (default 300 ms). */
  startMs?: number;
  /** Never becomes warm (for deadline tests). */
  neverReady?: boolean;
  /** Initial state (default cold). */
  state?: FunctionState;
  /**
   * The wake tier the 'warm' state message names. Only the message carries it (the record does
   * not), so a reader that reports it got it from the message.
   */
  messageTier?: WakeTier;
}

export class FakeOrchestrator {
  readonly keys: RedisKeys;
  /** Starts per function: the contract says at most one per cold period. */
  readonly starts = new Map<string, number>();
  readonly wakes: WakeMessage[] = [];
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly states = new Map<string, FunctionState>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(redisUrl: string, private readonly stack: string, private readonly fns: Record<string, FakeFunction>) {
    this.keys = redisKeys(stack);
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    this.sub = new Redis(redisUrl);
    // A test stops Redis on purpose; the calls that fail say so through their own promises.
    this.redis.on('error', () => undefined);
    this.sub.on('error', () => undefined);
  }

  async start(opts: { heartbeat?: boolean } = {}): Promise<void> {
    for (const [fn, def] of Object.entries(this.fns)) await this.setState(fn, def.state ?? 'cold');
    if (opts.heartbeat !== false) await this.startHeartbeat();
    this.sub.on('message', (_ch: string, raw: string) => this.onWake(raw));
    await this.sub.subscribe(this.keys.wakeChannel);
  }

  async startHeartbeat(): Promise<void> {
    const beat = () => this.redis.set(this.keys.orchestratorHeartbeat, JSON.stringify({ pid: process.pid, startedAt: Date.now() }), 'EX', HEARTBEAT_TTL_SECONDS);
    await beat();
    // A missed beat while a test has Redis down is the point of that test.
    this.heartbeat = setInterval(() => { beat().catch(() => undefined); }, 1000);
  }

  async stopHeartbeat(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await this.redis.del(this.keys.orchestratorHeartbeat);
  }

  wakesFor(fn: string): number {
    return this.wakes.filter((w) => w.fn === fn).length;
  }

  async setState(fn: string, state: FunctionState, messageTier?: WakeTier): Promise<number> {
    this.states.set(fn, state);
    const rec: FunctionStateRecord = { name: fn, version: '1', state, readyInstances: state === 'warm' ? 1 : 0, updatedAt: Date.now() };
    return Number(await this.redis.eval(SET_FUNCTION_STATE_LUA, 2, this.keys.functions, this.keys.stateRev, fn, JSON.stringify(rec), this.keys.stateChannel, state, messageTier ?? ''));
  }

  /** An instance end as the orchestrator records it (contracts/instance-failures.ts): list entry + message. */
  async recordFailure(r: InstanceFailureRecord): Promise<void> {
    const k = instanceFailureKeys(this.stack);
    await this.redis.multi().lpush(k.list(r.fn), JSON.stringify(r)).publish(k.channel, JSON.stringify(r)).exec();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await this.stopHeartbeat().catch(() => undefined); // Redis may already be stopped by the test
    this.redis.disconnect();
    this.sub.disconnect();
  }

  private onWake(raw: string): void {
    // A malformed wake is a bug in redis-rest: throwing fails the test loudly.
    const w = WakeMessageSchema.parse(JSON.parse(raw));
    this.wakes.push(w);
    const def = this.fns[w.fn];
    const state = this.states.get(w.fn);
    if (!def || (state !== 'cold' && state !== 'stopping')) return; // idempotent: at most one start
    this.starts.set(w.fn, (this.starts.get(w.fn) ?? 0) + 1);
    // State writes fail only when a test stopped Redis; the test then checks the outcome it wants.
    this.setState(w.fn, 'starting').catch(() => undefined);
    if (def.neverReady) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.setState(w.fn, 'warm', def.messageTier).catch(() => undefined);
    }, def.startMs ?? 300);
    this.timers.add(t);
  }
}
