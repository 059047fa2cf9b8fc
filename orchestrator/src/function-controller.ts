/**
 * Lifecycle of one function's instances: cold start on wake, idle scale-to-zero with drain,
 * adoption, and clean-up when a container dies. Every change to the instance set runs through
 * one Serial, so concurrent wakes start one instance and a wake during a drain waits for it.
 */
import { FaasError, type FunctionDefinition, type FunctionState, type Logger } from '@faas/contracts';
import type { InstanceDriver } from './docker-driver';
import { newInstanceId } from './docker-driver';
import { type InstanceStats, readStats, waitReady } from './probe';
import { type InstanceStatus, routeSpec } from './route-spec';
import { Serial } from './serial';
import type { StateStore } from './state';
import { RolloutError, type XdsClient } from './xds-client';
import type { PlatformMetrics } from './metrics';

export interface Instance {
  id: string;
  containerId: string;
  address: string;
  port: number;
  status: InstanceStatus;
  startedAt: number;
  stats?: InstanceStats;
  statsFailures: number;
}

export interface ControllerDeps {
  driver: InstanceDriver;
  xds: XdsClient;
  state: StateStore;
  metrics: PlatformMetrics;
  log: Logger;
  /** Resolves the image tag for this function (built once, memoized by the caller). */
  image: () => Promise<string>;
  readinessTimeoutMs: number;
  gatewayGraceMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FunctionController {
  readonly instances = new Map<string, Instance>();
  private readonly serial = new Serial();
  private starting: Promise<void> | undefined;
  private closed = false;
  /** The last instance is being removed; a wake in its grace period cancels the removal. */
  private stoppingLast = false;
  private wokenWhileStopping = false;
  /** Last state published to gateways: a ready instance is only routable once 'warm' was published. */
  private published: FunctionState = 'cold';
  /** Last state sent to Redis (maybe not yet confirmed): what a re-publication must repeat. */
  private intended: FunctionState = 'cold';
  /** A wake counts as activity: requests held at gateways have not reached the instance yet. */
  private lastWakeAt = 0;
  /** Instances with a scaleDown waiting in the Serial. */
  private readonly scaleDownQueued = new Set<string>();
  private readonly log: Logger;

  constructor(readonly def: FunctionDefinition, private readonly deps: ControllerDeps) {
    this.log = deps.log.child({ fn: def.name });
  }

  readyCount(): number {
    let n = 0;
    for (const i of this.instances.values()) if (i.status === 'ready') n += 1;
    return n;
  }

  /** Publish the router state (desired endpoints) and wait for every router's ACK. */
  private push() {
    return this.deps.xds.put(routeSpec(this.def, this.instances.values()));
  }

  private async publish(state: FunctionState): Promise<void> {
    this.intended = state;
    await this.deps.state.set(this.def.name, this.def.version, state, this.readyCount());
    this.published = state;
  }

  /** Register the function with routers (cluster + route, current endpoints) and gateways. */
  async register(): Promise<void> {
    await this.serial.run(async () => {
      try {
        await this.push();
      } catch (err) {
        // No router yet (compose starts Envoy in parallel): the xds-server keeps the desired
        // state and serves it when a router connects; the first wake pushes again and waits.
        if (!(err instanceof RolloutError && err.context.error === 'no_router')) throw err;
        this.log.warn('register_without_router', { instances: this.readyCount() });
        await this.publish('cold');
        return;
      }
      await this.publish(this.readyCount() > 0 ? 'warm' : 'cold');
    });
  }

  /** Make the function routable; idempotent and single-flight across concurrent wakes. */
  ensureWarm(requestId: string): Promise<void> {
    if (this.closed) return Promise.reject(new FaasError('shutting_down', 'orchestrator is shutting down', { fn: this.def.name }));
    this.lastWakeAt = Date.now();
    if (this.readyCount() > 0 && this.published === 'warm' && !this.stoppingLast) return Promise.resolve();
    if (this.stoppingLast) this.wokenWhileStopping = true;
    if (!this.starting) {
      this.starting = this.serial
        .run(async () => {
          if (this.closed) return;
          if (this.readyCount() > 0) {
            // Instances exist but were not confirmed routable (registered before any router).
            if (this.published !== 'warm') {
              await this.push();
              await this.publish('warm');
            }
            return;
          }
          await this.coldStart(requestId);
        })
        .finally(() => {
          this.starting = undefined;
        });
    }
    return this.starting;
  }

  private async coldStart(requestId: string): Promise<void> {
    const log = this.log.child({ requestId });
    if (this.instances.size >= this.def.scaling.maxInstances) {
      throw new FaasError('max_instances', `function ${this.def.name} is at max_instances ${this.def.scaling.maxInstances}`, { fn: this.def.name });
    }
    await this.publish('starting');
    const t0 = Date.now();
    let containerId: string | undefined;
    try {
      const image = await this.deps.image();
      const tImage = Date.now();
      const inst = await this.deps.driver.start({ def: this.def, image, instanceId: newInstanceId() });
      containerId = inst.containerId;
      const t1 = Date.now();
      await waitReady(inst.address, inst.port, this.deps.readinessTimeoutMs, () => this.deps.driver.isRunning(inst.containerId));
      const t2 = Date.now();
      this.instances.set(inst.instanceId, { id: inst.instanceId, containerId: inst.containerId, address: inst.address, port: inst.port, status: 'ready', startedAt: t2, statsFailures: 0 });
      await this.push();
      const t3 = Date.now();
      await this.publish('warm');
      const rec = {
        fn: this.def.name, instance: inst.instanceId, requestId,
        containerStartMs: t1 - tImage, readinessMs: t2 - t1, routeAckMs: t3 - t2, totalMs: t3 - t0, at: t3,
      };
      log.info('cold_start', { ...rec, imageMs: tImage - t0 });
      this.deps.metrics.coldStart(rec);
      await this.deps.state.recordColdStart(rec).catch(() => undefined);
    } catch (err) {
      log.error('cold_start_failed', { error: err });
      for (const [id, i] of this.instances) if (i.containerId === containerId) this.instances.delete(id);
      if (containerId) await this.deps.driver.stop(containerId, 0).catch(() => undefined);
      await this.push().catch(() => undefined);
      await this.publish(this.readyCount() > 0 ? 'warm' : 'cold').catch(() => undefined);
      throw err;
    }
  }

  /** Read every instance's in-flight figures; detect instances that stopped answering. */
  async refreshStats(): Promise<void> {
    await Promise.all(
      [...this.instances.values()].map(async (i) => {
        try {
          i.stats = await readStats(i.address, i.port);
          i.statsFailures = 0;
        } catch {
          i.statsFailures += 1;
          if (i.statsFailures >= 3 && !(await this.deps.driver.isRunning(i.containerId))) {
            // Not awaited: it queues behind this function's work (a cold start can take seconds)
            // and must not stall the stats tick of every function.
            void this.instanceDied(i.containerId).catch((err) => this.log.error('instance_cleanup_failed', { containerId: i.containerId, error: err }));
          }
        }
      }),
    );
  }

  /**
   * Remove one instance without losing a request: gateways first hold new requests (when it is
   * the last one), the router stops sending (DRAINING, ACKed), in-flight requests finish, the
   * endpoint is withdrawn (ACKed), and only then the container stops.
   */
  scaleDown(instanceId: string, reason: string): Promise<void> {
    // The stats tick asks again every round while a removal waits or runs (grace period,
    // drain): queue one request per instance, not one per round.
    if (this.scaleDownQueued.has(instanceId)) return Promise.resolve();
    this.scaleDownQueued.add(instanceId);
    return this.serial.run(async () => {
      this.scaleDownQueued.delete(instanceId);
      const inst = this.instances.get(instanceId);
      if (!inst || inst.status !== 'ready') return;
      // A request may have arrived since the decision: re-check on fresh figures.
      try {
        const s = await readStats(inst.address, inst.port);
        const sinceWake = Date.now() - this.lastWakeAt;
        if (reason === 'idle' && (s.inflight > 0 || s.idleMs < this.def.scaling.idleTimeoutMs || sinceWake < this.def.scaling.idleTimeoutMs)) return;
      } catch {
        // No figures: a busy handler can starve the stats endpoint. Remove only a dead container.
        if (await this.deps.driver.isRunning(inst.containerId)) return;
      }
      const log = this.log.child({ instance: instanceId });
      const last = this.readyCount() === 1;
      log.info('scale_down_begin', { reason, last });
      let done = false;
      try {
        if (last) {
          this.stoppingLast = true;
          this.wokenWhileStopping = false;
          await this.publish('stopping');
          await sleep(this.deps.gatewayGraceMs);
          if (this.wokenWhileStopping) {
            // Traffic came back before the router was told anything: keep the instance. The
            // held requests reach it only now: that counts as activity from this moment.
            this.lastWakeAt = Date.now();
            await this.publish('warm');
            log.info('scale_down_cancelled', { reason: 'woken' });
            return;
          }
        }
        done = await this.drainAndRemove(inst, last, log);
      } catch (err) {
        // E.g. Redis failed while 'stopping' was written: the instance still serves, so
        // gateways must not be left holding requests for a removal that is not happening.
        if (last && inst.status === 'ready' && this.instances.has(inst.id)) await this.publish('warm').catch(() => undefined);
        throw err;
      } finally {
        this.stoppingLast = false;
      }
      if (done) log.info('scale_down_done', { reason });
    });
  }

  /** DRAINING (ACKed) -> in-flight done -> withdrawn (ACKed) -> container stopped. False if aborted. */
  private async drainAndRemove(inst: Instance, last: boolean, log: Logger): Promise<boolean> {
    inst.status = 'draining';
    try {
      await this.push();
    } catch (err) {
      // The router did not take the drain: keep serving rather than cut traffic.
      inst.status = 'ready';
      if (last) await this.publish('warm').catch(() => undefined);
      log.warn('scale_down_aborted', { error: err });
      return false;
    }
    await this.waitDrained(inst);
    this.instances.delete(inst.id);
    await this.push().catch((err) => log.warn('endpoint_withdraw_failed', { error: err }));
    await this.deps.driver.stop(inst.containerId, Math.ceil(this.def.timeoutMs / 1000));
    await this.publish(this.readyCount() > 0 ? 'warm' : 'cold');
    return true;
  }

  private async waitDrained(inst: Instance): Promise<void> {
    const deadline = Date.now() + this.def.timeoutMs;
    while (Date.now() < deadline) {
      try {
        if ((await readStats(inst.address, inst.port)).inflight === 0) return;
      } catch {
        if (!(await this.deps.driver.isRunning(inst.containerId))) return; // gone: nothing left to drain
      }
      await sleep(25);
    }
    this.log.warn('drain_timeout', { instance: inst.id, timeoutMs: this.def.timeoutMs });
  }

  /** A container of ours died: withdraw it from routers and gateways. */
  instanceDied(containerId: string): Promise<void> {
    return this.serial.run(async () => {
      const inst = [...this.instances.values()].find((i) => i.containerId === containerId);
      if (!inst) return;
      this.log.warn('instance_died', { instance: inst.id, containerId });
      this.instances.delete(inst.id);
      if (this.readyCount() === 0) await this.publish('cold').catch(() => undefined);
      await this.push().catch((err) => this.log.warn('endpoint_withdraw_failed', { error: err }));
      await this.deps.driver.stop(containerId, 0).catch(() => undefined);
    });
  }

  /** Publish the current state again (Redis lost its data, e.g. restarted without persistence). */
  republish(): Promise<void> {
    // Not through the Serial: a cold start can hold it for seconds while gateways see nothing.
    // Repeating the last state sent is safe: one connection keeps the order of the writes.
    return this.deps.state.set(this.def.name, this.def.version, this.intended, this.readyCount()).then(() => undefined);
  }

  /** Take over a running, ready container found at start-up. */
  adopt(i: { id: string; containerId: string; address: string; port: number }): void {
    this.instances.set(i.id, { ...i, status: 'ready', startedAt: Date.now(), statsFailures: 0 });
    this.log.info('instance_adopted', { instance: i.id, containerId: i.containerId });
  }

  /** Shut down: hold new requests at the gateways, drain in the router, stop every container. */
  close(): Promise<void> {
    this.closed = true;
    return this.serial.run(async () => {
      if (this.instances.size === 0) {
        await this.publish('cold').catch(() => undefined);
        return;
      }
      await this.publish('stopping').catch(() => undefined);
      for (const i of this.instances.values()) i.status = 'draining';
      await this.push().catch(() => undefined);
      const all = [...this.instances.values()];
      await Promise.all(all.map((i) => this.waitDrained(i)));
      this.instances.clear();
      await this.push().catch(() => undefined);
      await Promise.all(all.map((i) => this.deps.driver.stop(i.containerId, 2).catch((err) => this.log.error('container_leak', { containerId: i.containerId, error: err }))));
      await this.publish('cold').catch(() => undefined);
    });
  }
}
