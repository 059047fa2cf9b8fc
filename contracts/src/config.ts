/**
 * Environment variables the components read, with their defaults (the native stack's
 * loopback layout). Parsed here once so a bad value fails at start with its name.
 */
import { FaasError } from './errors';

export const DEFAULT_PORTS = {
  gateway: 8080,
  router: 10000,
  xdsGrpc: 18000,
  xdsHttp: 18001,
  redisRest: 7071,
  statsd: 8125,
  redis: 6379,
  /** The orchestrator's GET /v1/status (loopback only by default; never published in compose). */
  status: 18002,
} as const;

export function envString(name: string, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

export function envInt(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env, min = 0, max = 65535): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new FaasError('invalid_env', `environment variable ${name}=${JSON.stringify(v)} must be a whole number from ${min} to ${max}`, { name, value: v });
  }
  return n;
}

/** Stack id: prefixes Redis keys and labels containers, so stacks never touch each other. */
export function stackId(env: NodeJS.ProcessEnv = process.env): string {
  const s = envString('FAAS_STACK', 'default', env);
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(s)) {
    throw new FaasError('invalid_env', `environment variable FAAS_STACK=${JSON.stringify(s)} must be 1-32 of a-z, 0-9, "-"`, { value: s });
  }
  return s;
}

/**
 * Largest request body the platform accepts by default (gateway 413 before any container work,
 * runtime limit). Lambda's synchronous payload limit; buffered once, it fits a 128 MiB instance.
 */
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;

/** Run id of this stack run (FAAS_RUN_ID): labels containers next to the stack id. Empty when unset. */
export function runId(env: NodeJS.ProcessEnv = process.env): string {
  const s = envString('FAAS_RUN_ID', '', env);
  if (s !== '' && !/^[a-z0-9][a-z0-9-]{0,63}$/.test(s)) {
    throw new FaasError('invalid_env', `environment variable FAAS_RUN_ID=${JSON.stringify(s)} must be 1-64 of a-z, 0-9, "-"`, { value: s });
  }
  return s;
}
