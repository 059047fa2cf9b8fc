/**
 * Function instances as Docker containers on one engine (dockerode). The InstanceDriver
 * interface is what the fleet uses, so a Swarm driver can replace this one later.
 */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { FaasError, type FunctionDefinition, LABELS, type Logger, SANDBOX_ROLE } from '@faas/contracts';
import type { EndpointMode } from './config';
import { type CallReach, containerCreateOptions, endpointOf } from './container-spec';
import type { SecretMounts } from './secret-mounts';
import { watchExitEvents } from './docker-events';
import type { ExitInfo } from './exit-events';
import type { SandboxPool } from './network-sandboxes';
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
  /** It joined a ready network sandbox (network-sandboxes.ts) instead of getting its own network. */
  sandboxed?: boolean;
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
    /** Network sandboxes a new container joins when one is ready (network-sandboxes.ts); absent: never. */
    private readonly sandboxes?: SandboxPool,
  ) {}

  /** Container id -> instance id, for removing an instance's secrets with its container. */
  private readonly instanceOf = new Map<string, string>();
  /** Container id -> the network sandbox it joined (removed with it), and back. */
  private readonly sandboxOf = new Map<string, string>();
  private readonly containerOfSandbox = new Map<string, string>();

  /** Sandboxes the known containers use (after listOwned): the start-up sweep keeps these. */
  referencedSandboxes(): Set<string> {
    return new Set(this.sandboxOf.values());
  }

  private joinSandbox(containerId: string, sandbox: string): void {
    this.sandboxOf.set(containerId, sandbox);
    this.containerOfSandbox.set(sandbox, containerId);
  }

  async start(spec: InstanceSpec): Promise<RunningInstance> {
    const { def, instanceId } = spec;
    const containerId = await this.create(spec);
    const loc = await this.startCreated(containerId, def);
    return { instanceId, containerId, fn: def.name, version: def.version, ...loc, ...(this.sandboxOf.has(containerId) ? { sandboxed: true } : {}) };
  }

  /** Create (not start) an instance's container, its secrets written first (removed with it by stop). */
  async create(spec: InstanceSpec): Promise<string> {
    const { def, image, instanceId } = spec;
    const secretsSource = await this.prepareSecrets(spec);
    const sandbox = this.sandboxes?.take();
    try {
      const ctx = { stack: this.stack, run: this.run, mode: this.mode, network: this.network, ...(this.call ? { call: this.call } : {}) };
      const container = await createRebuildingImage(spec, this.rebuildImage, this.log, (img) => this.docker.createContainer(containerCreateOptions({ ...spec, image: img }, ctx, secretsSource, sandbox?.id)));
      this.instanceOf.set(container.id, instanceId);
      if (sandbox) this.joinSandbox(container.id, sandbox.id);
      return container.id;
    } catch (err) {
      await this.releaseSecrets(instanceId);
      if (sandbox) await this.sandboxes?.remove(sandbox.id).catch((e: unknown) => this.log.error('container_leak', { containerId: sandbox.id, role: SANDBOX_ROLE, error: e }));
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
    } finally {
      // A sandbox taken for this start is replaced now that its Docker work is over.
      this.sandboxes?.fill();
    }
  }

  async locate(containerId: string): Promise<{ address: string; port: number } | undefined> {
    const sandbox = this.sandboxOf.get(containerId);
    if (sandbox !== undefined) {
      if (!this.sandboxes) return undefined;
      const running = (await this.docker.getContainer(containerId).inspect()).State.Running;
      return running ? this.sandboxes.locate(sandbox) : undefined;
    }
    const info = await this.docker.getContainer(containerId).inspect();
    return endpointOf(info.NetworkSettings, { mode: this.mode, network: this.network });
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
    const sandbox = this.sandboxOf.get(containerId);
    if (sandbox !== undefined) {
      this.sandboxOf.delete(containerId);
      this.containerOfSandbox.delete(sandbox);
      // Not awaited: the instance is gone with its container; a sandbox left by a failure here
      // is removed by the pool's close() or the next start-up sweep.
      void this.sandboxes?.remove(sandbox).then(
        () => this.sandboxes?.fill(),
        (err: unknown) => this.log.warn('sandbox_remove_failed', { containerId, sandbox, error: err }),
      );
    }
  }

  /**
   * A network sandbox died: an idle one leaves the pool; one in use took its instance's network
   * with it, so that container is killed (its own `die` event then ends the instance as usual).
   */
  private sandboxGone(id: string): boolean {
    const user = this.containerOfSandbox.get(id);
    if (user === undefined) return this.sandboxes?.forget(id) ?? false;
    this.log.warn('sandbox_died', { containerId: user, sandbox: id });
    this.docker.getContainer(user).kill().catch((err: unknown) => this.log.warn('container_kill_failed', { containerId: user, error: (err as Error).message }));
    return true;
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
    const all = await this.docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${this.stack}`] } });
    // Network sandboxes are the pool's (network-sandboxes.ts), not instances.
    const list = all.filter((c) => c.Labels[LABELS.role] !== SANDBOX_ROLE);
    for (const c of list) {
      const instanceId = c.Labels[LABELS.instance];
      if (instanceId) this.instanceOf.set(c.Id, instanceId);
      const sandbox = c.Labels[LABELS.sandbox];
      if (sandbox) this.joinSandbox(c.Id, sandbox);
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
    // A network sandbox's death is the driver's to handle (sandboxGone), not an instance's.
    return watchExitEvents(this.docker, this.stack, this.log, (id, exit) => {
      if (!this.sandboxGone(id)) onExit(id, exit);
    }, onResubscribed);
  }
}
