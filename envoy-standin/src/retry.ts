/**
 * Which failed upstream attempts may be retried. Pure. A connect failure never reached the
 * function. Every upstream request carries `Expect: 100-continue` and holds its body until
 * the runtime answers `100 Continue` (Node's server does so on reading the head, before the
 * handler runs): a connection that ends before any response byte (no 100, no status line)
 * never reached the runtime — docker-proxy on a published port accepts, then closes when the
 * container behind it is dead. Only later failures may have reached a handler, so only
 * `reset`/`5xx`/`gateway-error` replay them (never the platform's route).
 */
import type { RetryOn } from './model';

export type AttemptFailure = 'connect_failure' | 'reset_before_request' | 'reset_after_request';

/**
 * `connected`: the attempt's TCP connection was established (a reused keep-alive socket is).
 * `reached`: the upstream answered something (100 Continue or a response head).
 */
export function classifyFailure(connected: boolean, reached: boolean): AttemptFailure {
  if (!connected) return 'connect_failure';
  return reached ? 'reset_after_request' : 'reset_before_request';
}

export function shouldRetry(on: RetryOn, failure: AttemptFailure): boolean {
  switch (failure) {
    case 'connect_failure': return on.connectFailure;
    case 'reset_before_request': return on.resetBeforeRequest;
    case 'reset_after_request': return on.anyReset;
  }
}
