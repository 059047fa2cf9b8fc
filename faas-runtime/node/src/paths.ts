/**
 * Constants the runtime shares with the platform. Duplicated from @faas/contracts on purpose:
 * the runtime is copied into images with no node_modules. test/units.test.ts asserts they are equal.
 */
export const RUNTIME_PORT = 8080;

export const RUNTIME_PATHS = {
  ready: '/_faas/ready',
  stats: '/_faas/stats',
} as const;

export const REQUEST_ID_HEADER = 'x-request-id';

/** contracts' DEFAULT_MAX_BODY_BYTES (6 MiB): buffered once, it fits a 128 MiB instance. */
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;

/** The AWS runtime interface emulator's invoke path, served for Lambda-style handlers. */
export const LAMBDA_INVOKE_PATH = '/2015-03-31/functions/function/invocations';

/**
 * The client error codes the runtime answers, with their status: a subset of contracts'
 * CLIENT_ERRORS (same codes, same statuses; the units test checks).
 */
export const RUNTIME_ERRORS = {
  invalid_request: 400,
  body_too_large: 413,
  headers_too_large: 431,
  uri_too_long: 414,
  concurrency_limit: 429,
  handler_error: 500,
  internal_error: 500,
  draining: 503,
  platform_unavailable: 503,
  function_timeout: 504,
} as const;
export type RuntimeErrorCode = keyof typeof RUNTIME_ERRORS;
