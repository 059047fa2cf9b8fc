/**
 * Network sandboxes: containers made ahead of time that only hold a network namespace (and in
 * loopback mode the published 127.0.0.1 port), like Kubernetes' pause container. A cold start
 * takes one and creates the function's container inside its namespace (`NetworkMode:
 * container:<id>`): Docker then skips the network setup and port publishing, most of its start
 * cost (create + start measured here 250 ms with its own network, about 110 ms joined).
 * Each sandbox serves one instance and is removed with it, so no namespace is ever shared by two
 * instances or reused. An empty pool is no error: the instance gets its own network as before.
 */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { LABELS, type Logger, SANDBOX_ROLE } from '@faas/contracts';
import { type ContainerContext, endpointOf, sandboxCreateOptions } from './container-spec';

export interface Sandbox {
  id: string;
  address: string;
  port: number;
}

export interface SandboxPoolOptions {
  docker: Docker;
  ctx: ContainerContext;
  /** Image with a `sleep` (the node base image). */
  image: string;
  /** Sandboxes kept ready; 0 turns the pool off. */
  size: number;
  log: Logger;
  /** Pause before trying again after a failed fill. */
  retryMs?: number;
  /**
   * Quiet time before a refill: the sandboxes used by a burst are replaced after it, not while
   * its cold starts need dockerd (a sandbox costs a full create + start).
   */
  refillDelayMs?: number;
}

/** Of a stack's sandboxes, the ones no function container refers to (start-up sweep). Pure. */
export function unreferencedSandboxes(all: readonly string[], referenced: ReadonlySet<string>): string[] {
  return all.filter((id) => !referenced.has(id));
}

export class SandboxPool {
  private readonly ready: Sandbox[] = [];
  /** Where each handed-out sandbox is reached (also filled for adopted ones by locate). */
  private readonly taken = new Map<string, Sandbox>();
  private filling: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private refill: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: SandboxPoolOptions) {}

  get readyCount(): number {
    return this.ready.length;
  }

  /** A ready sandbox for one instance, or undefined (none ready: the caller uses its own network). */
  take(): Sandbox | undefined {
    const s = this.ready.shift();
    if (s) this.taken.set(s.id, s);
    return s;
  }

  /** Where a sandbox's instance is reached (inspects one this process did not make). */
  async locate(id: string): Promise<{ address: string; port: number } | undefined> {
    const known = this.taken.get(id);
    if (known) return { address: known.address, port: known.port };
    const loc = await this.inspect(id);
    if (loc) this.taken.set(id, { id, ...loc });
    return loc;
  }

  /** Remove a sandbox (its instance is gone). Idempotent. */
  async remove(id: string): Promise<void> {
    this.taken.delete(id);
    const i = this.ready.findIndex((s) => s.id === id);
    if (i >= 0) this.ready.splice(i, 1);
    try {
      await this.o.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode;
      // 404: already gone; 409: removal already in progress.
      if (code !== 404 && code !== 409) throw err;
    }
  }

  /** A sandbox died (Docker event): one not handed out leaves the pool. True when it was one of the pool's. */
  forget(id: string): boolean {
    const i = this.ready.findIndex((s) => s.id === id);
    if (i < 0) return false;
    this.ready.splice(i, 1);
    this.fill();
    return true;
  }

  /** Start-up: remove sandboxes no adopted container uses (a crashed run's pool), then fill. */
  async start(referenced: ReadonlySet<string>): Promise<void> {
    const stale = unreferencedSandboxes(await this.listIds(), referenced);
    await Promise.all(stale.map((id) => this.remove(id)));
    if (stale.length > 0) this.o.log.info('sandboxes_removed_at_start', { count: stale.length });
    this.fillNow();
  }

  /** Make sandboxes until `size` are ready, one at a time, in the background, after refillDelayMs of quiet. */
  fill(): void {
    if (this.closed || this.retry || this.ready.length >= this.o.size) return;
    if (this.refill) clearTimeout(this.refill);
    this.refill = setTimeout(() => {
      this.refill = undefined;
      this.fillNow();
    }, this.o.refillDelayMs ?? 500);
    this.refill.unref();
  }

  private fillNow(): void {
    if (this.closed || this.filling || this.retry || this.ready.length >= this.o.size) return;
    this.filling = this.fillLoop().finally(() => { this.filling = undefined; });
  }

  /** Stop filling and remove every sandbox of this stack (after its instances were removed). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.refill) clearTimeout(this.refill);
    await this.filling;
    const ids = await this.listIds();
    await Promise.all(ids.map((id) => this.remove(id).catch((err: unknown) => this.o.log.error('container_leak', { containerId: id, role: SANDBOX_ROLE, error: err }))));
  }

  private async fillLoop(): Promise<void> {
    while (!this.closed && this.ready.length < this.o.size) {
      try {
        this.ready.push(await this.make());
      } catch (err) {
        // Not fatal: instances get their own network meanwhile. Tried again after a pause.
        this.o.log.warn('sandbox_create_failed', { image: this.o.image, error: err });
        this.retry = setTimeout(() => { this.retry = undefined; this.fillNow(); }, this.o.retryMs ?? 30_000);
        this.retry.unref();
        return;
      }
    }
  }

  private async make(): Promise<Sandbox> {
    const name = `faas-${this.o.ctx.stack}-sandbox-${randomBytes(6).toString('hex')}`;
    const c = await this.o.docker.createContainer(sandboxCreateOptions(this.o.ctx, this.o.image, name));
    try {
      await c.start();
      const loc = await this.inspect(c.id);
      if (!loc) throw new Error('sandbox has no reachable address');
      if (this.closed) throw new Error('shutting down');
      return { id: c.id, ...loc };
    } catch (err) {
      await this.remove(c.id).catch((e: unknown) => this.o.log.error('container_leak', { containerId: c.id, role: SANDBOX_ROLE, error: e }));
      throw err;
    }
  }

  private async inspect(id: string): Promise<{ address: string; port: number } | undefined> {
    const info = await this.o.docker.getContainer(id).inspect();
    return info.State.Running ? endpointOf(info.NetworkSettings, this.o.ctx) : undefined;
  }

  private async listIds(): Promise<string[]> {
    const list = await this.o.docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${this.o.ctx.stack}`, `${LABELS.role}=${SANDBOX_ROLE}`] } });
    return list.map((c) => c.Id);
  }
}
