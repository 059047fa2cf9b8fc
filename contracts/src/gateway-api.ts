/**
 * HTTP API of redis-rest, called by the gateway's Lua (JSON over HTTP, express).
 *
 *   GET  /healthz                                   -> 200 { ok: true, redis: 'up' } | 503   (no credentials)
 *   GET  /v1/functions[?after=REV&wait_ms=N]        -> 200 FunctionStates (long poll: waits until rev > REV or N ms)
 *   GET  /v1/functions/:name                        -> 200 FunctionStateRecord (redis-keys.ts) | 400 | 404 | 503
 *   POST /v1/functions/:name/wake?timeout_ms=N      -> 200 WakeResult | 400 | 404 | 503 | 504   (long poll)
 *
 * Every /v1 route needs `authorization: Bearer <token>` (internal-auth.ts), else 401 `unauthorized`.
 * Errors are JSON GatewayApiError; callers decide by `error` (the code), never by the message.
 * The request id comes in header x-request-id.
 */
import { z } from 'zod';
import { FunctionStateSchema } from './redis-keys';
import { WakeTierSchema } from './wake-tier';

export const FunctionStatesSchema = z.object({
  rev: z.number().int().nonnegative(),
  /** name -> state, for every defined function. */
  functions: z.record(z.string(), FunctionStateSchema),
});
export type FunctionStates = z.infer<typeof FunctionStatesSchema>;

export const WakeResultSchema = z.object({
  fn: z.string(),
  state: z.literal('warm'),
  waitedMs: z.number().nonnegative(),
  /** The tier that served the wake when this request waited for one (absent: it was warm already). */
  tier: WakeTierSchema.optional(),
});
export type WakeResult = z.infer<typeof WakeResultSchema>;

/**
 * redis-rest's error codes, with their HTTP status. The 503 ones differ in what the gateway does:
 * only `not_deployed` (no state at all) makes it forget its cached states; `redis_unavailable`
 * keeps them, so warm functions stay routable through a Redis outage.
 */
export const GATEWAY_API_ERRORS = {
  invalid_request: 400,
  invalid_name: 400,
  unauthorized: 401,
  unknown_function: 404,
  not_found: 404,
  redis_unavailable: 503,
  not_deployed: 503,
  no_orchestrator: 503,
  malformed_state: 503,
  shutting_down: 503,
  wake_timeout: 504,
} as const satisfies Record<string, number>;

export type GatewayApiErrorCode = keyof typeof GATEWAY_API_ERRORS;
export const GATEWAY_API_ERROR_CODES = Object.keys(GATEWAY_API_ERRORS) as [GatewayApiErrorCode, ...GatewayApiErrorCode[]];

export const GatewayApiErrorSchema = z.object({
  error: z.enum(GATEWAY_API_ERROR_CODES),
  message: z.string(),
  fn: z.string().optional(),
});
export type GatewayApiError = z.infer<typeof GatewayApiErrorSchema>;

/** A whole-number query parameter of this API: its name, range and the value when absent. */
export interface IntQueryRule {
  name: string;
  min: number;
  max: number;
  /** Used when the parameter is absent; undefined = optional with no default. */
  fallback?: number;
}

export const GATEWAY_API_QUERY = {
  /** POST /v1/functions/:name/wake: longest hold. The gateway's WAKE_TIMEOUT_MS has the same range. */
  wakeTimeoutMs: { name: 'timeout_ms', min: 1, max: 120_000, fallback: 30_000 },
  /** GET /v1/functions: longest long poll. */
  waitMs: { name: 'wait_ms', min: 0, max: 60_000, fallback: 25_000 },
  after: { name: 'after', min: 0, max: Number.MAX_SAFE_INTEGER },
} as const satisfies Record<string, IntQueryRule>;

/** One plain decimal string in the rule's range (express gives string | string[] | object). */
export function intQuerySchema(rule: IntQueryRule) {
  return z.string().regex(/^\d{1,16}$/).transform(Number).pipe(z.number().int().min(rule.min).max(rule.max));
}
