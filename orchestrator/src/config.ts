/** Orchestrator settings from the environment, validated once at start. */
import * as path from 'node:path';
import { CALL_ENV, DEFAULT_PORTS, FaasError, envInt, envString, stackId } from '@faas/contracts';
import type { CallReach } from './container-spec';
import { defaultPausedBudgetMb } from './warm-pool';

/**
 * How routers reach function containers:
 * - 'loopback': each container publishes its port on 127.0.0.1 (native stack: router on the host);
 * - 'network': containers join a Docker network and are reached at their IP (compose).
 */
export type EndpointMode = 'loopback' | 'network';

export interface OrchestratorConfig {
  stack: string;
  redisUrl: string;
  xdsUrl: string;
  definitionsFile: string;
  baseImage: string;
  /** Base of Python function images. */
  pythonBaseImage: string;
  endpointMode: EndpointMode;
  /** Docker network for 'network' mode. */
  network: string;
  /** Deadline for a container to answer ready. */
  readinessTimeoutMs: number;
  /** Deadline for every router to ACK a change. */
  ackTimeoutMs: number;
  /** How often instance stats are read (idle detection). */
  statsIntervalMs: number;
  /** Pause between telling gateways a function is stopping and draining it in the router. */
  gatewayGraceMs: number;
  /** How often lost shared state (Redis states, xds-server desired state) is checked for. */
  reconcileIntervalMs: number;
  /** Where instances' secret files are written (secret-mounts.ts). */
  secretsDir: string;
  /** The same directory as dockerd sees it; unset: found through this container's mounts, or secretsDir. */
  secretsHostDir: string | undefined;
  /** OCI `.revision` of function images (FAAS_SOURCE_REVISION); read from the checkout's .git when unset. */
  sourceRevision?: string;
  /** OCI `.source` of function images (FAAS_SOURCE_URL); the code folder's file: URL when unset. */
  sourceUrl?: string;
  /** Interpreter whose pip installs a Python function's requirements.txt (FAAS_PYTHON). */
  pipPython?: string;
  /** Address of GET /v1/status; off loopback it needs the internal token (status-server.ts). */
  statusHost: string;
  /** Port of GET /v1/status (0: any free port). */
  statusPort: number;
  /** Quiet time after the last change to the definition file or a code folder before a reload. */
  watchDebounceMs: number;
  /** Poll the definition file and code folders every this many ms; 0 uses OS file events. */
  watchPollMs: number;
  /** Memory (sum of memory_mb) all paused warm-tier instances may hold (FAAS_PAUSED_BUDGET_MB). */
  pausedBudgetMb: number;
  /** How function containers reach the gateway for call(); absent: they cannot call functions. */
  call?: CallReach;
  /** Network sandboxes kept ready for cold starts (FAAS_NETWORK_SANDBOXES; 0: none, network-sandboxes.ts). */
  sandboxPool: number;
  /** Image of the sandboxes' `sleep` (FAAS_SANDBOX_IMAGE; the node base image). */
  sandboxImage: string;
}

/** A field only when the variable is set and not blank. */
function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  const v = value?.trim();
  return v ? ({ [key]: v } as Partial<Record<K, string>>) : {};
}

/** FAAS_CALL_SOCKET_DIR (native stack: host dir of the gateway's socket) or FAAS_CALL_URL (compose), not both. */
export function callReachOf(env: NodeJS.ProcessEnv): CallReach | undefined {
  const dir = env.FAAS_CALL_SOCKET_DIR || undefined;
  const url = env[CALL_ENV.url] || undefined;
  if (dir !== undefined && url !== undefined) {
    throw new FaasError('invalid_env', `set FAAS_CALL_SOCKET_DIR or ${CALL_ENV.url}, not both`, { dir, url });
  }
  if (dir !== undefined) {
    if (!path.isAbsolute(dir) || dir.includes(':')) throw new FaasError('invalid_env', `environment variable FAAS_CALL_SOCKET_DIR=${JSON.stringify(dir)} must be an absolute path without ':'`, { value: dir });
    return { socketDir: dir };
  }
  if (url !== undefined) {
    if (!/^(http:\/\/[^\s/?#]+\/?|unix:\/\S+)$/.test(url)) throw new FaasError('invalid_env', `environment variable ${CALL_ENV.url}=${JSON.stringify(url)} must be http://host:port or unix:/path`, { value: url });
    return { url };
  }
  return undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, repoRoot = process.cwd()): OrchestratorConfig {
  const mode = envString('ENDPOINT_MODE', 'loopback', env);
  if (mode !== 'loopback' && mode !== 'network') {
    throw new FaasError('invalid_env', `environment variable ENDPOINT_MODE=${JSON.stringify(mode)} must be "loopback" or "network"`, { value: mode });
  }
  return {
    stack: stackId(env),
    redisUrl: envString('REDIS_URL', `redis://127.0.0.1:${DEFAULT_PORTS.redis}`, env),
    xdsUrl: envString('XDS_URL', `http://127.0.0.1:${DEFAULT_PORTS.xdsHttp}`, env),
    definitionsFile: path.resolve(repoRoot, envString('FAAS_DEFINITIONS', 'global-function-definition.yml', env)),
    baseImage: envString('FAAS_BASE_IMAGE', 'node:20-alpine', env),
    pythonBaseImage: envString('FAAS_PYTHON_BASE_IMAGE', 'python:3.11-slim', env),
    endpointMode: mode,
    network: envString('FAAS_NETWORK', 'faas-functions', env),
    readinessTimeoutMs: envInt('FAAS_READINESS_TIMEOUT_MS', 30_000, env, 100, 600_000),
    ackTimeoutMs: envInt('FAAS_ACK_TIMEOUT_MS', 10_000, env, 100, 600_000),
    statsIntervalMs: envInt('FAAS_STATS_INTERVAL_MS', 1_000, env, 50, 60_000),
    gatewayGraceMs: envInt('FAAS_GATEWAY_GRACE_MS', 250, env, 0, 60_000),
    reconcileIntervalMs: envInt('FAAS_RECONCILE_INTERVAL_MS', 2_000, env, 100, 600_000),
    secretsDir: path.resolve(repoRoot, envString('FAAS_SECRETS_DIR', '.faas/secrets', env)),
    secretsHostDir: env.FAAS_SECRETS_HOST_DIR ? path.resolve(env.FAAS_SECRETS_HOST_DIR) : undefined,
    ...optional('sourceRevision', env.FAAS_SOURCE_REVISION),
    ...optional('sourceUrl', env.FAAS_SOURCE_URL),
    ...optional('pipPython', env.FAAS_PYTHON),
    statusHost: envString('FAAS_STATUS_HOST', '127.0.0.1', env),
    statusPort: envInt('FAAS_STATUS_PORT', DEFAULT_PORTS.status, env, 0, 65535),
    watchDebounceMs: envInt('FAAS_WATCH_DEBOUNCE_MS', 300, env, 10, 60_000),
    watchPollMs: envInt('FAAS_WATCH_POLL_MS', 0, env, 0, 60_000),
    ...withCall(callReachOf(env)),
    pausedBudgetMb: envInt('FAAS_PAUSED_BUDGET_MB', defaultPausedBudgetMb(), env, 0, 16 * 1024 * 1024),
    sandboxPool: envInt('FAAS_NETWORK_SANDBOXES', 2, env, 0, 64),
    sandboxImage: envString('FAAS_SANDBOX_IMAGE', envString('FAAS_BASE_IMAGE', 'node:20-alpine', env), env),
  };
}

function withCall(call: CallReach | undefined): { call?: CallReach } {
  return call === undefined ? {} : { call };
}
