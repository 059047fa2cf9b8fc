/** Reads of the orchestrator's state in Redis and the wake publish: the only Redis I/O of the request path. */
import type { Redis } from 'ioredis';
import { type FunctionState, type FunctionStateRecord, type InstanceFailureRecord, type RedisKeys, type WakeMessage, instanceFailureKeys } from '@faas/contracts';
import { parseFailureRecord, parseRev, parseStateRecord } from './parse';

export interface StatesSnapshot {
  /** False when the functions hash does not exist: the orchestrator never ran. */
  exists: boolean;
  rev: number;
  functions: Record<string, FunctionState>;
  /** Fields whose value is not a valid FunctionStateRecord (reported as 'cold'). */
  malformed: string[];
}

export interface FunctionRead {
  hashExists: boolean;
  heartbeat: boolean;
  /** Undefined when the function has no field. */
  record: FunctionStateRecord | undefined;
  /** True when the field exists but its value could not be parsed. */
  malformed: boolean;
}

/** Result of one republish tick: the state seen right after the wake was published. */
export type TickState = FunctionState | 'gone';

function execResults(res: [Error | null, unknown][] | null): unknown[] {
  if (!res) throw new Error('Redis transaction was aborted');
  return res.map(([err, v]) => {
    if (err) throw err;
    return v;
  });
}

export class StateStore {
  private readonly failureKeys;

  constructor(private readonly redis: Redis, private readonly keys: RedisKeys, stack: string) {
    this.failureKeys = instanceFailureKeys(stack);
  }

  /** The orchestrator's recent instance failures of fn (malformed entries are counted, not trusted). */
  async readFailures(fn: string): Promise<{ records: InstanceFailureRecord[]; malformed: number }> {
    const raw = await this.redis.lrange(this.failureKeys.list(fn), 0, -1);
    const records = raw.map(parseFailureRecord).filter((r): r is InstanceFailureRecord => r !== undefined && r.fn === fn);
    return { records, malformed: raw.length - records.length };
  }

  /** Whole state and its rev, read atomically (MULTI) so rev matches the states. */
  async readAll(): Promise<StatesSnapshot> {
    const [all, rawRev] = execResults(await this.redis.multi().hgetall(this.keys.functions).get(this.keys.stateRev).exec()) as [
      Record<string, string>, string | null,
    ];
    const functions: Record<string, FunctionState> = {};
    const malformed: string[] = [];
    for (const [name, raw] of Object.entries(all)) {
      const rec = parseStateRecord(raw);
      if (!rec) malformed.push(name);
      // A defined function with a garbled record is reported cold: a wake is the safe way to find out more.
      functions[name] = rec ? rec.state : 'cold';
    }
    return { exists: Object.keys(all).length > 0, rev: parseRev(rawRev), functions, malformed };
  }

  async readRev(): Promise<number> {
    return parseRev(await this.redis.get(this.keys.stateRev));
  }

  async readOne(fn: string): Promise<FunctionRead> {
    const [hashExists, heartbeat, raw] = execResults(
      await this.redis.multi().exists(this.keys.functions).exists(this.keys.orchestratorHeartbeat).hget(this.keys.functions, fn).exec(),
    ) as [number, number, string | null];
    const record = raw === null ? undefined : parseStateRecord(raw);
    return { hashExists: hashExists > 0, heartbeat: heartbeat > 0, record, malformed: raw !== null && record === undefined };
  }

  /** Publish a wake and read the state back in one round trip (pipelined). */
  async publishWake(msg: WakeMessage): Promise<TickState> {
    const [, raw] = execResults(
      await this.redis.pipeline().publish(this.keys.wakeChannel, JSON.stringify(msg)).hget(this.keys.functions, msg.fn).exec(),
    ) as [number, string | null];
    if (raw === null) return 'gone';
    return parseStateRecord(raw)?.state ?? 'cold';
  }
}
