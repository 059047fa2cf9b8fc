/**
 * Redis keys and pub/sub channels: the shared state and message bus of the platform.
 * Every key the platform writes starts with the stack prefix, so several stacks
 * (for example parallel test runs) can share one Redis without seeing each other.
 */
import { z } from 'zod';
import { type WakeTier, WakeTierSchema } from './wake-tier';

export interface RedisKeys {
  /** Hash: function name -> JSON FunctionStateRecord. Written by the orchestrator only. */
  functions: string;
  /** Integer, bumped on every change of `functions`; lets readers long-poll for changes. */
  stateRev: string;
  /** Channel: JSON StateChangeMessage, published after every change of `functions`. */
  stateChannel: string;
  /** Channel: JSON WakeMessage, from redis-rest to the orchestrator. */
  wakeChannel: string;
  /** Channel: JSON DemandAlert (demand-alert.ts), statsd-listener -> orchestrator, as soon as requests queue. */
  demandChannel: string;
  /** String with TTL: present while an orchestrator is alive (JSON OrchestratorHeartbeat). */
  orchestratorHeartbeat: string;
  /** Hash per function: latest router metrics (see metrics.ts FunctionMetrics), by statsd-listener. */
  metrics(fn: string): string;
  /** Hash: counters of the statsd-listener itself (received, malformed, ...). */
  statsdCounters: string;
  /** Hash: function name -> JSON xDS desired state, so a restarted xds-server resumes. */
  xdsDesired: string;
  /** List of JSON ColdStartRecord, newest first (trimmed to COLD_START_HISTORY). */
  coldStarts: string;
}

export function redisKeys(stack: string): RedisKeys {
  const p = `faas:${stack}:`;
  return {
    functions: `${p}functions`,
    stateRev: `${p}state:rev`,
    stateChannel: `${p}state`,
    wakeChannel: `${p}wake`,
    demandChannel: `${p}demand`,
    orchestratorHeartbeat: `${p}orchestrator:heartbeat`,
    metrics: (fn: string) => `${p}metrics:${fn}`,
    statsdCounters: `${p}statsd:counters`,
    xdsDesired: `${p}xds:desired`,
    coldStarts: `${p}coldstarts`,
  };
}

/** Lifecycle of a function as the gateway sees it (also rendered into the gateway's Lua). */
export const FUNCTION_STATES = ['cold', 'starting', 'warm', 'stopping'] as const;
export const FunctionStateSchema = z.enum(FUNCTION_STATES);
export type FunctionState = z.infer<typeof FunctionStateSchema>;

/** Instance counts by lifecycle state, for operators and the load script. */
export const InstanceCountsSchema = z.object({
  starting: z.number().int().nonnegative(),
  ready: z.number().int().nonnegative(),
  draining: z.number().int().nonnegative(),
});
export type InstanceCounts = z.infer<typeof InstanceCountsSchema>;

export const FunctionStateRecordSchema = z.object({
  name: z.string(),
  version: z.string(),
  state: FunctionStateSchema,
  /** Instances that are routable (HEALTHY and ACKed by every router). */
  readyInstances: z.number().int().nonnegative(),
  /** Every instance by state; absent in records written by older orchestrators. */
  instances: InstanceCountsSchema.optional(),
  /** Tier of the instance whose wake last made the function warm (wake-tier.ts); absent before any. */
  wakeTier: WakeTierSchema.optional(),
  /** Epoch ms of the last change. */
  updatedAt: z.number().nonnegative(),
});
export type FunctionStateRecord = z.infer<typeof FunctionStateRecordSchema>;

export const StateChangeMessageSchema = z.object({
  fn: z.string(),
  state: FunctionStateSchema,
  rev: z.number().int(),
  /** The record's wakeTier, carried so a waiting wake answers without reading the record back. */
  wakeTier: WakeTierSchema.optional(),
});
export type StateChangeMessage = z.infer<typeof StateChangeMessageSchema>;

export const WakeMessageSchema = z.object({
  fn: z.string(),
  requestId: z.string(),
  /** Epoch ms the wake was asked for. */
  at: z.number().nonnegative(),
  /** Requests held for this function when the wake was sent (sizes a cold burst); 1 when absent. */
  waiting: z.number().int().positive().optional(),
});
export type WakeMessage = z.infer<typeof WakeMessageSchema>;

export const OrchestratorHeartbeatSchema = z.object({
  pid: z.number().int(),
  startedAt: z.number().nonnegative(),
});
export type OrchestratorHeartbeat = z.infer<typeof OrchestratorHeartbeatSchema>;

/** Seconds the orchestrator heartbeat lives without refresh. */
export const HEARTBEAT_TTL_SECONDS = 5;

/** Phases of one cold start, pushed by the orchestrator to the list coldStartsKey(stack) (newest first). */
export interface ColdStartRecord {
  fn: string;
  instance: string;
  requestId: string;
  /** Which tier served it; absent in records of older orchestrators (then 'cold'). */
  tier?: WakeTier;
  /** The container phase: docker create + start (cold), start (created) or unpause (paused). */
  containerStartMs: number;
  /** From started to the runtime answering ready. */
  readinessMs: number;
  /** From the push to every router ACKing the endpoint and route (after readiness, or beside the container phase when routedEarly). */
  routeAckMs: number;
  /** The endpoint was pushed while the container thawed (paused tier): routeAckMs overlaps containerStartMs. */
  routedEarly?: boolean;
  /** A cold start that joined a ready network sandbox (no network setup of its own). */
  sandboxed?: boolean;
  totalMs: number;
  at: number;
}

/** Length the coldStarts list is trimmed to. */
export const COLD_START_HISTORY = 1000;

/** List of JSON ColdStartRecord, newest first, for benchmarks and operators. */
export function coldStartsKey(stack: string): string {
  return redisKeys(stack).coldStarts;
}

/**
 * The one way to change a function's state: HSET the record, INCR the rev and PUBLISH the change,
 * atomically, so a reader that saw rev N has seen every change up to N.
 * KEYS: functions hash, stateRev. ARGV: fn, JSON FunctionStateRecord, stateChannel, state,
 * wakeTier ('' for none).
 */
export const SET_FUNCTION_STATE_LUA = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local rev = redis.call('INCR', KEYS[2])
local msg = {fn = ARGV[1], state = ARGV[4], rev = rev}
if ARGV[5] ~= nil and ARGV[5] ~= '' then msg.wakeTier = ARGV[5] end
redis.call('PUBLISH', ARGV[3], cjson.encode(msg))
return rev`;

/**
 * Remove a function's state (it is no longer defined): HDEL, and only if a field was removed,
 * INCR the rev and PUBLISH a 'cold' change, so long-polling readers see the removal.
 * KEYS: functions hash, stateRev. ARGV: fn, stateChannel. Returns the new rev, or 0.
 */
export const DELETE_FUNCTION_STATE_LUA = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
local rev = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[2], cjson.encode({fn = ARGV[1], state = 'cold', rev = rev}))
return rev`;
