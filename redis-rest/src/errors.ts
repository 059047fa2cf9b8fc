/** Typed API errors: each carries its code, the HTTP status that code has (gateway-api.ts) and the body it answers with. */
import { FaasError, GATEWAY_API_ERRORS, type GatewayApiError, type GatewayApiErrorCode } from '@faas/contracts';

/** Seconds a client should wait before retrying while the platform is unavailable. */
export const RETRY_AFTER_SECONDS = 2;

export class ApiError extends FaasError {
  readonly status: number;
  readonly apiCode: GatewayApiErrorCode;
  readonly fn: string | undefined;
  /** Seconds for a Retry-After header (every 503 answer). */
  readonly retryAfterSeconds: number | undefined;

  constructor(apiCode: GatewayApiErrorCode, message: string, opts: { fn?: string; cause?: unknown } = {}) {
    const status = GATEWAY_API_ERRORS[apiCode];
    super(apiCode, message, { status, fn: opts.fn }, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ApiError';
    this.status = status;
    this.apiCode = apiCode;
    this.fn = opts.fn;
    this.retryAfterSeconds = status === 503 ? RETRY_AFTER_SECONDS : undefined;
  }

  body(): GatewayApiError {
    return this.fn === undefined ? { error: this.apiCode, message: this.message } : { error: this.apiCode, message: this.message, fn: this.fn };
  }
}

export function redisDown(cause?: unknown): ApiError {
  return new ApiError('redis_unavailable', 'Redis is unreachable', { cause });
}
