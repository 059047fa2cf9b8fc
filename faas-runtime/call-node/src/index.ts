/**
 * @faas/call: functions calling functions, `await call('add', {x: 1, y: 2})` → 3.
 * Inside a Node function it is on the handler's context (`context.call`) and resolvable as
 * `require('@faas/call')`; both propagate the current request id, deadline and call depth.
 * On the host it calls the native stack's gateway (FAAS_CALL_URL, default http://127.0.0.1:8080).
 */
export { call, createCaller, type CallOptions } from './client';
export { CallError, type CallErrorCode, type CallErrorContext, errorOfResponse } from './errors';
export { type CallContext, withCallContext, currentCallContext, callContextOfHeaders } from './ambient';
export { CALL_HEADERS, CALL_URL_ENV, DEFAULT_CALL_URL, PLATFORM_ERROR_CODES, type PlatformErrorCode } from './constants';
export { parseCallUrl } from './transport';
