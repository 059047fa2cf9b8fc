/**
 * Which failed upstream attempts may be retried. Pure. Follows Envoy's router: a connect
 * failure never reached the function; a reset before any request byte was written
 * (reset-before-request) did not either; any later reset may have reached it, so only
 * `reset`/`5xx`/`gateway-error` replay it (never the platform's route: a POST the function
 * already received must not run twice).
 */
import type { RetryOn } from './model';

export type AttemptFailure = 'connect_failure' | 'reset_before_request' | 'reset_after_request';

/**
 * `connected`: the attempt's TCP connection was established (a reused keep-alive socket is).
 * `bytesWritten`: bytes of this attempt handed to that connection (NaN when unknown).
 */
export function classifyFailure(connected: boolean, bytesWritten: number): AttemptFailure {
  if (!connected) return 'connect_failure';
  return bytesWritten === 0 ? 'reset_before_request' : 'reset_after_request';
}

export function shouldRetry(on: RetryOn, failure: AttemptFailure): boolean {
  switch (failure) {
    case 'connect_failure': return on.connectFailure;
    case 'reset_before_request': return on.resetBeforeRequest;
    case 'reset_after_request': return on.anyReset;
  }
}
