/**
 * HTTP API of redis-rest, called by the gateway's Lua (JSON over HTTP, express).
 *
 *   GET  /healthz                                   -> 200 { ok: true, redis: 'up' }
 *   GET  /v1/functions[?after=REV&wait_ms=N]        -> 200 FunctionStates (long poll: waits until rev > REV or N ms)
 *   GET  /v1/functions/:name                        -> 200 FunctionStateRecord | 400 | 404
 *   POST /v1/functions/:name/wake?timeout_ms=N      -> 200 WakeResult | 400 | 404 | 503 | 504   (long poll)
 *
 * Errors are JSON GatewayApiError. The request id comes in header x-request-id.
 */
import type { FunctionState, FunctionStateRecord } from './redis-keys';

export interface FunctionStates {
  rev: number;
  /** name -> state, for every defined function. */
  functions: Record<string, FunctionState>;
}

export interface WakeResult {
  fn: string;
  state: 'warm';
  waitedMs: number;
}

export type GatewayApiErrorCode = 'invalid_name' | 'unknown_function' | 'platform_unavailable' | 'wake_timeout' | 'invalid_request';

export interface GatewayApiError {
  error: GatewayApiErrorCode;
  message: string;
  fn?: string;
}

export type { FunctionStateRecord };
