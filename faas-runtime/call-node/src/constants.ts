/**
 * Values shared with the platform, repeated from contracts/src/call-api.ts and client-errors.ts
 * on purpose: this package is copied into function images without node_modules.
 * test/client.test.ts asserts they equal the contracts'.
 */
export const CALL_HEADERS = {
  requestId: 'x-request-id',
  depth: 'x-faas-call-depth',
  deadlineMs: 'x-faas-deadline-ms',
} as const;

export const CALL_URL_ENV = 'FAAS_CALL_URL';

/** Where a host-side client goes when FAAS_CALL_URL is unset: the native stack's gateway. */
export const DEFAULT_CALL_URL = 'http://127.0.0.1:8080';

/** The platform's error codes (contracts' CLIENT_ERRORS), so a caller can switch on them. */
export const PLATFORM_ERROR_CODES = [
  'invalid_request', 'invalid_name', 'unauthorized', 'unknown_function', 'not_found', 'method_not_allowed',
  'body_too_large', 'uri_too_long', 'headers_too_large', 'concurrency_limit', 'handler_error', 'internal_error',
  'instance_failed', 'out_of_memory', 'bad_gateway', 'no_healthy_instance', 'overloaded', 'platform_unavailable',
  'draining', 'shutting_down', 'wake_timeout', 'call_depth_exceeded', 'function_timeout', 'upstream_timeout',
] as const;
export type PlatformErrorCode = (typeof PLATFORM_ERROR_CODES)[number];
