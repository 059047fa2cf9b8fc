/**
 * What Docker is asked to create for one instance: env, labels, limits and isolation. Pure, so
 * the isolation rules (non-root image user, read-only root, no capabilities, limits from the
 * definition) are table-tested without a daemon and shared by every way an instance is created.
 */
import type Docker from 'dockerode';
import { CALL_ENV, CALL_SOCKET, CONTAINER_CALL_URL, LABELS, RUNTIME_PORT, SANDBOX_ROLE } from '@faas/contracts';
import type { EndpointMode } from './config';
import { containerConfigHash } from './config-hash';
import type { InstanceSpec } from './docker-driver';
import { SECRETS_MOUNT } from './secrets';

export const PORT_KEY = `${RUNTIME_PORT}/tcp`;

export interface ContainerContext {
  stack: string;
  /** LABELS.run ('' leaves it out). */
  run: string;
  mode: EndpointMode;
  /** Docker network for 'network' mode. */
  network: string;
  /** How the function's `call()` reaches the platform's entry; absent: FAAS_CALL_URL is not set. */
  call?: CallReach;
}

/**
 * The path to the gateway the orchestrator gives each container, and nothing else: in the native
 * stack the directory of the gateway's unix socket (host path), mounted read-only at
 * CALL_SOCKET.containerDir; in compose the gateway's URL on the functions network.
 */
export type CallReach = { socketDir: string } | { url: string };

function callEnv(call: CallReach | undefined): string[] {
  if (call === undefined) return [];
  return [`${CALL_ENV.url}=${'socketDir' in call ? CONTAINER_CALL_URL : call.url}`];
}

function callBinds(call: CallReach | undefined): { Binds?: string[] } {
  return call !== undefined && 'socketDir' in call ? { Binds: [`${call.socketDir}:${CALL_SOCKET.containerDir}:ro`] } : {};
}

export function containerName(stack: string, fn: string, instanceId: string): string {
  return `faas-${stack}-${fn}-${instanceId}`;
}

/**
 * Where routers reach a running container, from its inspect data: its published 127.0.0.1 port
 * (loopback) or its address on the functions network; undefined when it has neither. Pure.
 */
export function endpointOf(net: Docker.ContainerInspectInfo['NetworkSettings'], ctx: Pick<ContainerContext, 'mode' | 'network'>): { address: string; port: number } | undefined {
  if (ctx.mode === 'loopback') {
    const port = Number(net.Ports?.[PORT_KEY]?.[0]?.HostPort);
    return Number.isInteger(port) && port > 0 ? { address: '127.0.0.1', port } : undefined;
  }
  const ip = net.Networks?.[ctx.network]?.IPAddress;
  return ip ? { address: ip, port: RUNTIME_PORT } : undefined;
}

/** How a container is reached: its own published port (loopback) or network, or a sandbox's. */
function networkOf(ctx: ContainerContext, sandbox: string | undefined): Pick<Docker.HostConfig, 'PortBindings' | 'NetworkMode'> {
  // Joined: the sandbox already holds the network and the published port (Docker refuses both here).
  if (sandbox !== undefined) return { NetworkMode: `container:${sandbox}` };
  return ctx.mode === 'loopback' ? { PortBindings: { [PORT_KEY]: [{ HostIp: '127.0.0.1', HostPort: '' }] } } : { NetworkMode: ctx.network };
}

/**
 * `secretsSource`: the instance's secrets directory as dockerd sees it (secret-mounts.ts), mounted
 * read-only at /run/secrets; secret values never appear in these options. `sandbox`: the id of a
 * network sandbox (network-sandboxes.ts) whose network namespace the container joins.
 */
export function containerCreateOptions(spec: InstanceSpec, ctx: ContainerContext, secretsSource?: string, sandbox?: string): Docker.ContainerCreateOptions {
  const { def, image, instanceId } = spec;
  return {
    name: containerName(ctx.stack, def.name, instanceId),
    Image: image,
    Env: [
      ...Object.entries(def.env).map(([k, v]) => `${k}=${v}`),
      `FAAS_CONCURRENCY=${def.concurrency}`,
      `FAAS_TIMEOUT_MS=${def.timeoutMs}`,
      `FAAS_DRAIN_TIMEOUT_MS=${def.timeoutMs}`,
      `FAAS_PORT=${RUNTIME_PORT}`,
      `FAAS_INSTANCE=${instanceId}`,
      `FAAS_HANDLER_STYLE=${def.handlerStyle}`,
      `FAAS_MAX_BODY_BYTES=${def.maxBodyBytes}`,
      `FAAS_MEMORY_MB=${def.memoryMb}`,
      ...callEnv(ctx.call),
    ],
    Labels: {
      [LABELS.function]: def.name,
      [LABELS.version]: def.version,
      [LABELS.instance]: instanceId,
      [LABELS.stack]: ctx.stack,
      [LABELS.configHash]: containerConfigHash(def),
      ...(ctx.run ? { [LABELS.run]: ctx.run } : {}),
      ...(sandbox !== undefined ? { [LABELS.sandbox]: sandbox } : {}),
    },
    ...(sandbox === undefined ? { ExposedPorts: { [PORT_KEY]: {} } } : {}),
    StopTimeout: Math.ceil(def.timeoutMs / 1000) + 1,
    HostConfig: {
      Memory: def.memoryMb * 1024 * 1024,
      NanoCpus: Math.round(def.cpus * 1e9),
      PidsLimit: def.pidsLimit,
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,size=64m' },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ...(secretsSource !== undefined ? { Mounts: [{ Type: 'bind' as const, Source: secretsSource, Target: SECRETS_MOUNT, ReadOnly: true }] } : {}),
      ...callBinds(ctx.call),
      ...networkOf(ctx, sandbox),
    },
  };
}

/** A network sandbox's process: sleeps for 68 years, as an unprivileged user (busybox and coreutils `sleep` both take it). */
export const SANDBOX_CMD = ['sleep', '2147483647'];

/**
 * A network sandbox: a container that only holds a network namespace (and, in loopback mode,
 * the published port) for one future instance, made ahead of time so a cold start skips
 * Docker's network setup. Unprivileged, tiny limits, nothing mounted.
 */
export function sandboxCreateOptions(ctx: ContainerContext, image: string, name: string): Docker.ContainerCreateOptions {
  return {
    name,
    Image: image,
    Cmd: SANDBOX_CMD,
    User: '65534:65534',
    Labels: { [LABELS.stack]: ctx.stack, [LABELS.role]: SANDBOX_ROLE, ...(ctx.run ? { [LABELS.run]: ctx.run } : {}) },
    ExposedPorts: { [PORT_KEY]: {} },
    HostConfig: {
      Memory: 16 * 1024 * 1024,
      NanoCpus: 100_000_000,
      PidsLimit: 4,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ...networkOf(ctx, undefined),
    },
  };
}
