/**
 * Function instances as Docker containers on one engine (dockerode). The InstanceDriver
 * interface is what the fleet uses, so a Swarm driver can replace this one later.
 */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { FaasError, type FunctionDefinition, LABELS, type Logger, RUNTIME_PORT } from '@faas/contracts';
import type { EndpointMode } from './config';
import { type CallReach, PORT_KEY, containerCreateOptions } from './container-spec';
import type { SecretMounts } from './secret-mounts';
import { watchExitEvents } from './docker-events';
import type { ExitInfo } from './exit-events';
import { type RebuildImage, createRebuildingImage } from './image-cache';

export type { ExitInfo } from './exit-events';

export interface InstanceSpec {
  def: FunctionDefinition;
  image: string;
  instanceId: string;
}

export interface RunningInstance {
  instanceId: string;
  containerId: string;
  fn: string;
  version: string;
  /** Where routers (and probes) reach the runtime: an IP literal and port. */
  address: string;
  port: number;
}

export interface OwnedContainer {
  containerId: string;
  fn: string;
  version: string;
  instanceId: string;
  image: string;
  /** LABELS.configHash ('' when absent: created by an older orchestrator). */
  configHash: string;
  running: boolean;
  /** Frozen by docker pause (warm tier); Docker then reports it not 'running'. */
  paused: boolean;
  /** Created, never started (the created warm tier). */
  created: boolean;
}

export interface InstanceDriver {
  start(spec: InstanceSpec): Promise<RunningInstance>;
  /** docker create only (the created warm tier): the container id; startCreated runs it later. */
  create(spec: InstanceSpec): Promise<string>;
  startCreated(containerId: string, def: FunctionDefinition): Promise<{ address: string; port: number }>;
  /** Stop (SIGTERM, then SIGKILL after graceSeconds) and remove. Idempotent. */
  stop(containerId: string, graceSeconds: number): Promise<void>;
  isRunning(containerId: string): Promise<boolean>;
  /** Freeze (docker pause, cgroup freezer) / thaw a running container: the paused warm tier. */
  pause(containerId: string): Promise<void>;
  unpause(containerId: string): Promise<void>;
  /** How a stopped container ended; undefined when it is gone. */
  exitInfo(containerId: string): Promise<ExitInfo | undefined>;
  /** Address of an already running container (for adoption). */
  locate(containerId: string): Promise<{ address: string; port: number } | undefined>;
  listOwned(): Promise<OwnedContainer[]>;
  /**
   * Calls onExit(containerId, exit) when one of this stack's containers dies (exit from the
   * event: exit code, and OOM kill when an `oom` event came first; undefined if the event lacks it); re-subscribes when the
   * event stream is lost and then calls onResubscribed (exits in the gap were missed).
   * Returns a stop function.
   */
  watchExits(onExit: (containerId: string, exit: ExitInfo | undefined) => void, onResubscribed?: () => void): Promise<() => void>;
}

export function newInstanceId(): string {
  return randomBytes(6).toString('hex');
}

export class DockerDriver implements InstanceDriver {
  constructor(
    private readonly docker: Docker,
    private readonly stack: string,
    private readonly mode: EndpointMode,
    private readonly network: string,
    private readonly log: Logger,
    /** LABELS.run on every container (FAAS_RUN_ID); '' leaves the label out. */
    private readonly run = '',
    /** Where instances' secrets are written; without it a function with secrets cannot start. */
    private readonly secrets?: SecretMounts,
    /** The path to the gateway for call() (container-spec.ts); absent: none. */
    private readonly call?: CallReach,
    /** Builds a function's image again when a create finds it removed (image-cache.ts); absent: the create fails. */
    private readonly rebuildImage?: RebuildImage,
  ) {}

  /** Container id -> instance id, for removing an instance's secrets with its container. */
  private readonly instanceOf = new Map<string, string>();

  async start(spec: InstanceSpec): Promise<RunningInstance> {
    const { def, instanceId } = spec;
    const containerId = await this.create(spec);
    return { instanceId, containerId, fn: def.name, version: def.version, ...(await this.startCreated(containerId, def)) };
  }

  /** Create (not start) an instance's container, its secrets written first (removed with it by stop). */
  async create(spec: InstanceSpec): Promise<string> {
    const { def, image, instanceId } = spec;
    const secretsSource = await this.prepareSecrets(spec);
    try {
      const ctx = { stack: this.stack, run: this.run, mode: this.mode, network: this.network, ...(this.call ? { call: this.call } : {}) };
      const container = await createRebuildingImage(spec, this.rebuildImage, this.log, (img) => this.docker.createContainer(containerCreateOptions({ ...spec, image: img }, ctx, secretsSource)));
      this.instanceOf.set(container.id, instanceId);
      return container.id;
    } catch (err) {
      await this.releaseSecrets(instanceId);
      throw new FaasError('container_create_failed', `cannot create container for ${def.name}: ${(err as Error).message}`, { fn: def.name, image });
    }
  }

  async startCreated(containerId: string, def: FunctionDefinition): Promise<{ address: string; port: number }> {
    try {
      await this.docker.getContainer(containerId).start();
      const loc = await this.locate(containerId);
      if (!loc) throw new Error('container has no reachable address');
      return loc;
    } catch (err) {
      // Never leave a created-but-unusable container behind.
      await this.stop(containerId, 0);
      throw new FaasError('container_start_failed', `cannot start container for ${def.name}: ${(err as Error).message}`, { fn: def.name, containerId });
    }
  }

  async locate(containerId: string): Promise<{ address: string; port: number } | undefined> {
    const info = await this.docker.getContainer(containerId).inspect();
    if (this.mode === 'loopback') {
      const binding = info.NetworkSettings.Ports?.[PORT_KEY]?.[0];
      const port = binding ? Number(binding.HostPort) : NaN;
      return Number.isInteger(port) && port > 0 ? { address: '127.0.0.1', port } : undefined;
    }
    const ip = info.NetworkSettings.Networks?.[this.network]?.IPAddress;
    return ip ? { address: ip, port: RUNTIME_PORT } : undefined;
  }

  async stop(containerId: string, graceSeconds: number): Promise<void> {
    const c = this.docker.getContainer(containerId);
    try {
      await c.stop({ t: graceSeconds });
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode;
      if (code !== 304 && code !== 404) this.log.warn('container_stop_failed', { containerId, error: (err as Error).message });
    }
    try {
      await c.remove({ force: true, v: true });
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode;
      // 404: already gone; 409: removal already in progress.
      if (code !== 404 && code !== 409) throw new FaasError('container_remove_failed', `cannot remove container ${containerId}: ${(err as Error).message}`, { containerId });
    }
    const instanceId = this.instanceOf.get(containerId);
    this.instanceOf.delete(containerId);
    if (instanceId !== undefined) await this.releaseSecrets(instanceId);
  }

  private async prepareSecrets(spec: InstanceSpec): Promise<string | undefined> {
    if (Object.keys(spec.def.secrets).length === 0) return undefined;
    if (!this.secrets) throw new FaasError('secrets_unsupported', `function "${spec.def.name}" has secrets but this driver has no secrets directory`, { fn: spec.def.name });
    return this.secrets.prepare(spec.def, spec.instanceId);
  }

  private async releaseSecrets(instanceId: string): Promise<void> {
    // A left-over directory is removed by the next start-up sweep; not a reason to fail a stop.
    await this.secrets?.release(instanceId).catch((err: unknown) => this.log.warn('secret_dir_remove_failed', { instance: instanceId, error: err }));
  }

  async isRunning(containerId: string): Promise<boolean> {
    try {
      return (await this.docker.getContainer(containerId).inspect()).State.Running;
    } catch (err) {
      // Gone (404) or dockerd unreachable: either way it cannot be serving through us.
      this.log.debug('container_inspect_failed', { containerId, error: (err as Error).message });
      return false;
    }
  }

  async pause(containerId: string): Promise<void> {
    try {
      await this.docker.getContainer(containerId).pause();
    } catch (err) {
      throw new FaasError('container_pause_failed', `cannot pause container ${containerId}: ${(err as Error).message}`, { containerId }, { cause: err });
    }
  }

  async unpause(containerId: string): Promise<void> {
    try {
      await this.docker.getContainer(containerId).unpause();
    } catch (err) {
      throw new FaasError('container_unpause_failed', `cannot unpause container ${containerId}: ${(err as Error).message}`, { containerId }, { cause: err });
    }
  }

  async exitInfo(containerId: string): Promise<ExitInfo | undefined> {
    try {
      const { State } = await this.docker.getContainer(containerId).inspect();
      return { exitCode: State.ExitCode, oomKilled: State.OOMKilled };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  async listOwned(): Promise<OwnedContainer[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${this.stack}`] } });
    for (const c of list) {
      const instanceId = c.Labels[LABELS.instance];
      if (instanceId) this.instanceOf.set(c.Id, instanceId);
    }
    return list.map((c) => ({
      containerId: c.Id,
      fn: c.Labels[LABELS.function] ?? '',
      version: c.Labels[LABELS.version] ?? '',
      instanceId: c.Labels[LABELS.instance] ?? '',
      image: c.Image,
      configHash: c.Labels[LABELS.configHash] ?? '',
      running: c.State === 'running',
      paused: c.State === 'paused',
      created: c.State === 'created',
    }));
  }

  /** This stack's `die`/`oom` events, re-subscribed when the stream is lost (docker-events.ts). */
  watchExits(onExit: (containerId: string, exit: ExitInfo | undefined) => void, onResubscribed?: () => void): Promise<() => void> {
    return watchExitEvents(this.docker, this.stack, this.log, onExit, onResubscribed);
  }
}
