/**
 * Functions calling functions from inside the runtime: each request's call context (request id,
 * deadline, depth from the caller's headers) is put on the handler's context as `context.call`
 * and made ambient for `require('@faas/call')` while the handler runs.
 */
import type * as http from 'node:http';
import { type CallContext, type CallOptions, callContextOfHeaders, createCaller, withCallContext } from '@faas/call';

export type BoundCall = <T = unknown>(name: string, args?: unknown, options?: CallOptions) => Promise<T>;

export interface RequestCalls {
  ctx: CallContext;
  /** The request's deadline: its start + the function's timeout, or the caller's earlier one. */
  deadline: number;
  call: BoundCall;
}

export function requestCalls(req: http.IncomingMessage, requestId: string, started: number, timeoutMs: number): RequestCalls {
  const fromCaller = callContextOfHeaders(req.headers, requestId, started);
  const own = started + timeoutMs;
  const deadline = fromCaller.deadline !== undefined ? Math.min(own, fromCaller.deadline) : own;
  const ctx: CallContext = { requestId, deadline, depth: fromCaller.depth };
  return { ctx, deadline, call: createCaller(ctx) };
}

export function runWithCalls<T>(calls: RequestCalls, fn: () => T): T {
  return withCallContext(calls.ctx, fn);
}
