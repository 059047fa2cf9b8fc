/**
 * The request a handler is serving, so `call()` inside it propagates the request id, the
 * remaining deadline and the call depth without being handed the context. The store hangs off a
 * global symbol: the runtime and the function may load two copies of this package and must still
 * share it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { CALL_HEADERS } from './constants';

export interface CallContext {
  requestId?: string;
  /** Epoch ms at which the current request's deadline passes. */
  deadline?: number;
  /** Depth of the current request (0 for a client's own request). */
  depth: number;
}

const KEY = Symbol.for('faas.call.context');
type Holder = { [KEY]?: AsyncLocalStorage<CallContext> };

function store(): AsyncLocalStorage<CallContext> {
  const g = globalThis as Holder;
  g[KEY] ??= new AsyncLocalStorage<CallContext>();
  return g[KEY];
}

/** Runs fn (a handler invocation) with ctx as the current request's call context. */
export function withCallContext<T>(ctx: CallContext, fn: () => T): T {
  return store().run(ctx, fn);
}

export function currentCallContext(): CallContext | undefined {
  return store().getStore();
}

/** A request's depth and remaining deadline from its headers (absent or malformed: depth 0, no deadline). */
export function callContextOfHeaders(headers: Record<string, string | string[] | undefined>, requestId: string, now: number): CallContext {
  const int = (name: string): number | undefined => {
    const v = headers[name];
    const s = Array.isArray(v) ? v[0] : v;
    return s !== undefined && /^[0-9]{1,9}$/.test(s) ? Number(s) : undefined;
  };
  const remainingMs = int(CALL_HEADERS.deadlineMs);
  return { requestId, depth: int(CALL_HEADERS.depth) ?? 0, ...(remainingMs !== undefined ? { deadline: now + remainingMs } : {}) };
}
