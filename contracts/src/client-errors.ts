/**
 * Every error the platform itself answers to a client (gateway, nginx's own pages, router local
 * replies, runtime): a stable code, its HTTP status and what it means. Bodies are ClientErrorBody
 * with content-type application/json. A function's own responses pass through untouched.
 */
import { z } from 'zod';

export const CLIENT_ERRORS = {
  invalid_request: { status: 400, meaning: 'the request is malformed (bad path, method, header or parameter)' },
  invalid_name: { status: 400, meaning: 'the first path segment is not a valid function name' },
  unauthorized: { status: 401, meaning: 'an internal API was called without the shared secret' },
  unknown_function: { status: 404, meaning: 'no function of that name is defined' },
  not_found: { status: 404, meaning: 'no such resource' },
  method_not_allowed: { status: 405, meaning: 'the method is not supported here' },
  body_too_large: { status: 413, meaning: "the request body exceeds the function's maximum body size" },
  uri_too_long: { status: 414, meaning: 'the request line is too long' },
  headers_too_large: { status: 431, meaning: 'a request header or the header block is too large' },
  concurrency_limit: { status: 429, meaning: 'the instance is at its concurrency limit (the router normally queues instead)' },
  handler_error: { status: 500, meaning: "the function's handler threw or returned something unusable" },
  internal_error: { status: 500, meaning: 'an unexpected platform error (see the logs with the request id)' },
  instance_failed: { status: 502, meaning: 'the instance ended (crashed, was killed) while handling the request' },
  out_of_memory: { status: 502, meaning: 'the instance ran out of memory while handling the request' },
  bad_gateway: { status: 502, meaning: 'the router or an upstream answered something unusable' },
  no_healthy_instance: { status: 503, meaning: 'the function has no instance that can take the request' },
  overloaded: { status: 503, meaning: "the router's queue for the function is full" },
  platform_unavailable: { status: 503, meaning: 'a platform component needed for this request is down; retry' },
  draining: { status: 503, meaning: 'the instance is shutting down' },
  shutting_down: { status: 503, meaning: 'the platform is shutting down' },
  wake_timeout: { status: 503, meaning: 'the function did not become ready before the wake deadline' },
  call_depth_exceeded: { status: 508, meaning: 'a chain of function calls went deeper than the platform allows (a call loop?)' },
  function_timeout: { status: 504, meaning: "the request exceeded the function's timeout" },
  upstream_timeout: { status: 504, meaning: 'the router gave up waiting for the instance' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ClientErrorCode = keyof typeof CLIENT_ERRORS;
export const CLIENT_ERROR_CODES = Object.keys(CLIENT_ERRORS) as [ClientErrorCode, ...ClientErrorCode[]];

export const ClientErrorBodySchema = z.object({
  error: z.enum(CLIENT_ERROR_CODES),
  message: z.string(),
  fn: z.string().optional(),
  requestId: z.string().optional(),
});
export type ClientErrorBody = z.infer<typeof ClientErrorBodySchema>;

export function clientError(code: ClientErrorCode, message: string, where: { fn?: string; requestId?: string } = {}): { status: number; body: ClientErrorBody } {
  const body: ClientErrorBody = { error: code, message };
  if (where.fn !== undefined) body.fn = where.fn;
  if (where.requestId !== undefined) body.requestId = where.requestId;
  return { status: CLIENT_ERRORS[code].status, body };
}
