/** Typed API errors: each carries its HTTP status and the GatewayApiError body it answers with. */
import { FaasError, type GatewayApiError, type GatewayApiErrorCode } from '@faas/contracts';

export class ApiError extends FaasError {
  readonly status: number;
  readonly apiCode: GatewayApiErrorCode;
  readonly fn: string | undefined;
  /** Seconds for a Retry-After header (503 answers). */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, apiCode: GatewayApiErrorCode, message: string, opts: { fn?: string; retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(apiCode, message, { status, fn: opts.fn }, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ApiError';
    this.status = status;
    this.apiCode = apiCode;
    this.fn = opts.fn;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }

  body(): GatewayApiError {
    return this.fn === undefined ? { error: this.apiCode, message: this.message } : { error: this.apiCode, message: this.message, fn: this.fn };
  }
}

/** Seconds a client should wait before retrying while the platform is unavailable. */
export const RETRY_AFTER_SECONDS = 2;

export function redisDown(cause?: unknown): ApiError {
  return new ApiError(503, 'platform_unavailable', 'Redis is unreachable', { retryAfterSeconds: RETRY_AFTER_SECONDS, cause });
}
