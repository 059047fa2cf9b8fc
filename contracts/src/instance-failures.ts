/**
 * Why an instance ended, for the client that was waiting on it. The router only sees the
 * connection end (its 502 `instance_failed`); the orchestrator learns the cause from Docker
 * (`State.OOMKilled` on inspect after `die`) and records it here, so the gateway can answer
 * 502 `out_of_memory` instead.
 *
 *  - Redis (stack prefix of redisKeys): list `instance-failures:<fn>`, JSON InstanceFailureRecord,
 *    newest first, trimmed to INSTANCE_FAILURE_HISTORY, PEXPIRE INSTANCE_FAILURE_TTL_MS; channel
 *    `instance-failures`, the same JSON, published with the LPUSH in one MULTI.
 *  - Router -> gateway: the router's `instance_failed` local reply carries
 *    `X-Accel-Redirect: @faas_instance_failed` (ROUTER_FAILURE_REDIRECT); nginx drops the router's
 *    body and runs that named location instead, which asks redis-rest.
 *  - redis-rest: GET /v1/functions/:name/failure?since=MS&wait_ms=N (internal token) ->
 *    200 InstanceFailureAnswer: the record explaining a failure at or after `since`, waiting for
 *    it up to `wait_ms`; `failure: null` when none came.
 */
import { z } from 'zod';
import type { IntQueryRule } from './gateway-api';

/** `oom`: the kernel killed it for memory; `exited`: any other end (crash, kill, exit code). */
export const INSTANCE_FAILURE_CAUSES = ['oom', 'exited'] as const;
export type InstanceFailureCause = (typeof INSTANCE_FAILURE_CAUSES)[number];

export const InstanceFailureRecordSchema = z.object({
  fn: z.string(),
  /** LABELS.instance of the container. */
  instance: z.string(),
  cause: z.enum(INSTANCE_FAILURE_CAUSES),
  exitCode: z.number().int().optional(),
  /** The definition's memory_mb, for the client's message. */
  memoryMb: z.number().int().positive().optional(),
  /** Epoch ms when the orchestrator learnt of the end (never before the end itself). */
  at: z.number().int().nonnegative(),
});
export type InstanceFailureRecord = z.infer<typeof InstanceFailureRecordSchema>;

export const InstanceFailureAnswerSchema = z.object({
  fn: z.string(),
  failure: InstanceFailureRecordSchema.nullable(),
  waitedMs: z.number().nonnegative(),
});
export type InstanceFailureAnswer = z.infer<typeof InstanceFailureAnswerSchema>;

/** How long a record is kept: a client waits at most a few seconds for one. */
export const INSTANCE_FAILURE_TTL_MS = 60_000;
/** Records kept per function (several instances can die in one burst). */
export const INSTANCE_FAILURE_HISTORY = 16;
/** The gateway's longest wait for the orchestrator's record after the router's instance_failed. */
export const INSTANCE_FAILURE_WAIT_MS = 1_000;

export const INSTANCE_FAILURE_QUERY = {
  /** Epoch ms: only failures recorded at or after it explain the request (its start). */
  since: { name: 'since', min: 0, max: Number.MAX_SAFE_INTEGER },
  waitMs: { name: 'wait_ms', min: 0, max: 5_000, fallback: INSTANCE_FAILURE_WAIT_MS },
} as const satisfies Record<string, IntQueryRule>;

/** The header and named location by which the router hands its instance_failed reply to the gateway. */
export const ROUTER_FAILURE_REDIRECT = { header: 'x-accel-redirect', location: '@faas_instance_failed' } as const;

export interface InstanceFailureKeys {
  /** List of JSON InstanceFailureRecord of one function, newest first. */
  list(fn: string): string;
  /** Channel: every InstanceFailureRecord as it is recorded. */
  channel: string;
}

export function instanceFailureKeys(stack: string): InstanceFailureKeys {
  // The same stack prefix as redisKeys().
  const p = `faas:${stack}:`;
  return { list: (fn: string) => `${p}instance-failures:${fn}`, channel: `${p}instance-failures` };
}
