/** The typed error of a failed call: the platform's JSON error, or what the client saw itself. */
import { PLATFORM_ERROR_CODES, type PlatformErrorCode } from './constants';

/**
 * `code` is one of the platform's client error codes (the callee's or the gateway's JSON answer,
 * or `upstream_timeout` / `platform_unavailable` / `bad_gateway` when the client gave up, could
 * not connect or could not read the answer), or `function_error` when the callee answered a
 * non-2xx response of its own (then `body` holds it).
 */
export type CallErrorCode = PlatformErrorCode | 'function_error';

export interface CallErrorContext {
  fn: string;
  status?: number;
  requestId?: string;
  body?: unknown;
}

export class CallError extends Error {
  readonly code: CallErrorCode;
  readonly fn: string;
  /** HTTP status of the answer; undefined when none came. */
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly body: unknown;

  constructor(code: CallErrorCode, message: string, ctx: CallErrorContext, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CallError';
    this.code = code;
    this.fn = ctx.fn;
    this.status = ctx.status;
    this.requestId = ctx.requestId;
    this.body = ctx.body;
  }
}

function isPlatformCode(v: unknown): v is PlatformErrorCode {
  return typeof v === 'string' && (PLATFORM_ERROR_CODES as readonly string[]).includes(v);
}

/**
 * A non-2xx answer as a CallError. The platform's bodies are `{error, message, fn?, requestId?}`
 * (contracts' ClientErrorBodySchema, checked by hand: no zod in images); anything else is the
 * function's own answer.
 */
export function errorOfResponse(fn: string, status: number, body: unknown, requestId: string | undefined): CallError {
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    if (isPlatformCode(b.error) && typeof b.message === 'string') {
      const rid = typeof b.requestId === 'string' ? b.requestId : requestId;
      return new CallError(b.error, `call to ${fn} failed: ${b.error}: ${b.message}`, { fn, status, requestId: rid, body });
    }
  }
  return new CallError('function_error', `call to ${fn} answered ${status}`, { fn, status, requestId, body });
}
