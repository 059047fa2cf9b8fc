export { type RuntimeConfig, DEFAULTS, DEFAULT_CODE_DIR, parseRuntimeConfig, parseHandler } from './config';
export { RuntimeError, RuntimeConfigError, HandlerLoadError } from './errors';
export { type FaasEvent, type FaasContext, type Handler, loadHandler, invokeHandler, HandlerTimeoutError } from './handler';
export { type RuntimeLogger, createRuntimeLogger } from './log';
export { RUNTIME_PORT, RUNTIME_PATHS, REQUEST_ID_HEADER } from './paths';
export { type HttpResponse, InvalidResultError, toHttpResponse, isResponseShape } from './response';
export { type RuntimeServer, type RuntimeStats, startRuntime, main } from './server';
