/** Runtime configuration from FAAS_* environment variables, validated with messages naming the variable. */
import * as path from 'node:path';
import { RuntimeConfigError } from './errors';
import { DEFAULT_MAX_BODY_BYTES, RUNTIME_PORT } from './paths';

export interface RuntimeConfig {
  functionName: string;
  functionVersion: string;
  /** Absolute directory holding the function code. */
  codeDir: string;
  /** Module path relative to codeDir, e.g. "index" or "lib/main". */
  handlerModule: string;
  /** Export name inside the module, e.g. "handler". */
  handlerExport: string;
  concurrency: number;
  port: number;
  host: string;
  timeoutMs: number;
  drainTimeoutMs: number;
  maxBodyBytes: number;
  /** "http": the event is the request; "lambda": API Gateway v2 events and the RIE invoke path. */
  handlerStyle: HandlerStyle;
  /** Lambda's context.memoryLimitInMB: FAAS_MEMORY_MB, else the cgroup limit, else undefined. */
  memoryMb: number | undefined;
  /** cgroup v2 directory for the memory guard (FAAS_CGROUP_DIR; tests point it at fake files). */
  cgroupDir: string;
}

export type HandlerStyle = 'http' | 'lambda';
export const HANDLER_STYLES: readonly HandlerStyle[] = ['http', 'lambda'];

export const DEFAULT_CODE_DIR = '/opt/faas/function';
export const DEFAULTS = {
  concurrency: 8,
  timeoutMs: 30_000,
  drainTimeoutMs: 10_000,
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  cgroupDir: '/sys/fs/cgroup',
  // Inside a container the router reaches us over the container network; tests override with 127.0.0.1.
  host: '0.0.0.0',
} as const;

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback?: string): string {
  const v = env[name];
  if (v === undefined || v === '') {
    if (fallback === undefined) throw new RuntimeConfigError(`environment variable ${name} is required`, { name });
    return fallback;
  }
  return v;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new RuntimeConfigError(`environment variable ${name}=${JSON.stringify(v)} must be a whole number from ${min} to ${max}`, { name, value: v });
  }
  return n;
}

/** "<module>.<export>": the export is after the last dot, so "lib/v1.2/main.handler" works. */
export function parseHandler(spec: string): { module: string; exportName: string } {
  const m = /^([A-Za-z0-9_./-]+)\.([A-Za-z_$][A-Za-z0-9_$]*)$/.exec(spec);
  if (!m) {
    throw new RuntimeConfigError(`environment variable FAAS_HANDLER=${JSON.stringify(spec)} must look like "<module>.<export>", e.g. "index.handler"`, { name: 'FAAS_HANDLER', value: spec });
  }
  const module = m[1] as string;
  const norm = path.posix.normalize(module);
  if (norm.startsWith('../') || norm === '..' || path.posix.isAbsolute(norm)) {
    throw new RuntimeConfigError(`environment variable FAAS_HANDLER=${JSON.stringify(spec)}: the module must stay inside the code directory`, { name: 'FAAS_HANDLER', value: spec });
  }
  return { module: norm, exportName: m[2] as string };
}

export function parseRuntimeConfig(env: Env): RuntimeConfig {
  const functionName = str(env, 'FAAS_FUNCTION');
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(functionName)) {
    throw new RuntimeConfigError(`environment variable FAAS_FUNCTION=${JSON.stringify(functionName)} must be lowercase letters, digits and "-", starting with a letter, at most 40 characters`, { name: 'FAAS_FUNCTION', value: functionName });
  }
  const functionVersion = str(env, 'FAAS_VERSION', '0');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(functionVersion)) {
    throw new RuntimeConfigError(`environment variable FAAS_VERSION=${JSON.stringify(functionVersion)} must be 1-64 letters, digits, ".", "_" or "-"`, { name: 'FAAS_VERSION', value: functionVersion });
  }
  const handler = parseHandler(str(env, 'FAAS_HANDLER', 'index.handler'));
  const host = str(env, 'FAAS_HOST', DEFAULTS.host);
  const style = str(env, 'FAAS_HANDLER_STYLE', 'http');
  if (!HANDLER_STYLES.includes(style as HandlerStyle)) {
    throw new RuntimeConfigError(`environment variable FAAS_HANDLER_STYLE=${JSON.stringify(style)} must be one of ${HANDLER_STYLES.join(', ')}`, { name: 'FAAS_HANDLER_STYLE', value: style });
  }
  const memory = env.FAAS_MEMORY_MB;
  return {
    functionName,
    functionVersion,
    codeDir: path.resolve(str(env, 'FAAS_CODE_DIR', DEFAULT_CODE_DIR)),
    handlerModule: handler.module,
    handlerExport: handler.exportName,
    concurrency: int(env, 'FAAS_CONCURRENCY', DEFAULTS.concurrency, 1, 10_000),
    port: int(env, 'FAAS_PORT', RUNTIME_PORT, 1, 65_535),
    host,
    timeoutMs: int(env, 'FAAS_TIMEOUT_MS', DEFAULTS.timeoutMs, 1, 24 * 3_600_000),
    drainTimeoutMs: int(env, 'FAAS_DRAIN_TIMEOUT_MS', DEFAULTS.drainTimeoutMs, 0, 3_600_000),
    maxBodyBytes: int(env, 'FAAS_MAX_BODY_BYTES', DEFAULTS.maxBodyBytes, 0, 1024 * 1024 * 1024),
    handlerStyle: style as HandlerStyle,
    memoryMb: memory === undefined || memory === '' ? undefined : int(env, 'FAAS_MEMORY_MB', 0, 1, 1024 * 1024),
    cgroupDir: path.resolve(str(env, 'FAAS_CGROUP_DIR', DEFAULTS.cgroupDir)),
  };
}
