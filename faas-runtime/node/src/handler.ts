/** Loading the user's handler and calling it with a deadline. */
import * as path from 'node:path';
import type { BoundCall } from './calls';
import { HandlerLoadError } from './errors';

export interface FaasEvent {
  method: string;
  path: string;
  rawQuery: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: Buffer;
  requestId: string;
}

export interface FaasContext {
  functionName: string;
  functionVersion: string;
  requestId: string;
  /** Lambda's name for requestId. */
  awsRequestId: string;
  /** Lambda's memory limit field (a string, as in AWS's Node runtime); undefined when unknown. */
  memoryLimitInMB: string | undefined;
  /** Epoch ms after which the runtime answers 504. */
  deadline: number;
  getRemainingTimeInMillis(): number;
  /** call(name, args) through the platform, carrying this request's id, deadline and depth (@faas/call). */
  call: BoundCall;
  /** How many calls deep this request is (0 for a client's own request). */
  callDepth: number;
}

export type Handler = (event: FaasEvent, context: FaasContext, callback?: (err: unknown, result?: unknown) => void) => unknown;

/** require()s codeDir/module and returns its export; HandlerLoadError says exactly what is wrong. */
export function loadHandler(codeDir: string, module: string, exportName: string): Handler {
  const file = path.resolve(codeDir, module);
  let resolved: string;
  try {
    resolved = require.resolve(file);
  } catch (err) {
    throw new HandlerLoadError(`handler module "${module}" not found in ${codeDir}`, { codeDir, module }, err);
  }
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(resolved);
  } catch (err) {
    throw new HandlerLoadError(`handler module ${resolved} threw while loading: ${(err as Error).message}`, { codeDir, module, file: resolved }, err);
  }
  const fn = mod !== null && (typeof mod === 'object' || typeof mod === 'function') ? (mod as Record<string, unknown>)[exportName] : undefined;
  if (typeof fn !== 'function') {
    throw new HandlerLoadError(`handler module ${resolved} has no function export "${exportName}" (found ${fn === undefined ? 'nothing' : typeof fn})`, { codeDir, module, exportName, file: resolved });
  }
  return fn as Handler;
}

export class HandlerTimeoutError extends Error {
  constructor(ms: number) {
    super(`handler did not finish within ${ms} ms`);
    this.name = 'HandlerTimeoutError';
  }
}

/**
 * Calls the handler: async/promise style, or callback style when it declares 3 parameters.
 * A synchronous throw becomes a rejection. Rejects with HandlerTimeoutError at the deadline.
 */
export function invokeHandler(fn: Handler, event: FaasEvent, context: FaasContext): Promise<unknown> {
  const run = new Promise<unknown>((resolve, reject) => {
    const cb = (err: unknown, result?: unknown): void => (err !== null && err !== undefined ? reject(err) : resolve(result));
    const r = fn.length >= 3 ? fn(event, context, cb) : fn(event, context);
    if (fn.length < 3) resolve(r);
    else if (r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function') (r as Promise<unknown>).then(resolve, reject);
  });
  const ms = Math.max(0, context.deadline - Date.now());
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandlerTimeoutError(ms)), ms);
  });
  return Promise.race([run, timeout]).finally(() => clearTimeout(timer));
}
