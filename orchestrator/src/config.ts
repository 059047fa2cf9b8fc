/** Orchestrator settings from the environment, validated once at start. */
import * as path from 'node:path';
import { DEFAULT_PORTS, FaasError, envInt, envString, stackId } from '@faas/contracts';
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
  /** Memory (sum of memory_mb) all paused warm-tier instances may hold (FAAS_PAUSED_BUDGET_MB). */
  pausedBudgetMb: number;
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
    pausedBudgetMb: envInt('FAAS_PAUSED_BUDGET_MB', defaultPausedBudgetMb(), env, 0, 16 * 1024 * 1024),
  };
}
