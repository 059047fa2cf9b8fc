/**
 * One function's reconciler. Each tick: observe (instance stats, router metrics, wakes) ->
 * decide (pure: deps.decideScale, chooseDrainVictims) -> act (scale-up.ts, drain.ts: Docker, xDS, Redis).
 * A wake of a cold function and the removal of its last instance run through one Serial, so
 * concurrent wakes start one group of instances and a wake during the last drain cancels it.
 * Other scale-ups and drains run in parallel; the instance set (instance-set.ts) is their truth.
 */
import { FaasError, type FunctionDefinition, type FunctionMetrics, type FunctionRouteSpec, type FunctionState, type Logger, type WakeTier } from '@faas/contracts';
import { chooseDrainVictims } from './autoscaler/drain-choice';
import { type AutoscalerState, type DemandSample, INITIAL_AUTOSCALER_STATE, type ScaleDecision } from './autoscaler/types';
import type { ControllerDeps } from './controller-context';
import type { ExitInfo } from './docker-driver';
import { drainAndRemove } from './drain';
import { reportExit } from './instance-failures';
import { InstanceSet } from './instance-set';
import { refreshStats } from './instance-stats';
import { observe } from './observe';
import { routeSpec } from './route-spec';
import { RouterPush } from './router-push';
import { addInstance, pausedSource } from './warm-tier';
import { shutdownInstances } from './shutdown';
import { Serial } from './serial';
import type { TickTrigger } from './tick-loop';
import { RolloutError } from './xds-client';
import { type LastRemovalContext, lastRemoval } from './last-removal';

export type { ControllerDeps } from './controller-context';

export class FunctionController implements LastRemovalContext {
  readonly set = new InstanceSet();
  readonly log: Logger;
  private readonly serial = new Serial();
  private readonly router: RouterPush;
  private cold: Promise<void> | undefined;
  closed = false;
  /** rollout.ts owns the instance set (no autoscaler acts); retire.ts: the state must not come back. */
  rollingOut = false;
  retired = false;
  /** The last instance is being removed; a wake in its grace period cancels the removal. */
  stoppingLast = false;
  wokenWhileStopping = false;
  /** Last state gateways confirmed: a ready instance is only routable once 'warm' was published. */
  private published: FunctionState = 'cold';
  /** Last state sent to Redis (maybe not yet confirmed): what a re-publication must repeat. */
  private intended: FunctionState = 'cold';
  private tier: WakeTier | undefined; // of the last wake that made it warm (in every state write)
  /** A wake counts as activity: requests held at gateways have not reached the instance yet. */
  lastWakeAt = 0;
  /** Wakes since the function was last routable: the size of the burst held at gateways. */
  private waking = 0;
  /** Request ids of those wakes: a wake re-published every second while requests wait is one request. */
  private readonly wakeIds = new Set<string>();
  private history: DemandSample[] = [];
  private autoscaler: AutoscalerState = INITIAL_AUTOSCALER_STATE;
  private lastLogged = '';
  /** Instances whose removal was asked for (one per instance however often ticks ask). */
  private readonly removing = new Set<string>();
  /** Acts started by ticks, not awaited by them (a drain can take the function's timeout). */
  private readonly work = new Set<Promise<void>>();

  constructor(public def: FunctionDefinition, readonly deps: ControllerDeps) {
    this.log = deps.log.child({ fn: def.name });
    this.router = new RouterPush(() => deps.xds.put(this.desiredRoute()));
    deps.warmPool.register(pausedSource(this));
  }

  readyCount(): number {
    return this.set.census().ready;
  }

  /** The router state this controller wants (what the periodic reconcile compares against). */
  desiredRoute(): FunctionRouteSpec {
    return routeSpec(this.def, this.set.routable());
  }

  push(): Promise<void> {
    return this.router.push();
  }

  async publish(state: FunctionState, tier?: WakeTier): Promise<void> {
    if (this.retired) return;
    this.intended = state;
    this.tier = tier ?? this.tier;
    await this.deps.state.set(this.def.name, this.def.version, state, this.set.census(), this.tier);
    this.published = state;
  }

  publishCounts(): void {
    if (this.retired) return;
    this.deps.state.set(this.def.name, this.def.version, this.intended, this.set.census(), this.tier)
      .catch((err: unknown) => this.log.warn('state_publish_failed', { what: 'instance counts', error: err }));
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

  /** A wake (`waiting`: requests it stands for): make the function routable; single-flight. */
  ensureWarm(requestId: string, waiting = 1): Promise<void> {
    if (this.closed) return Promise.reject(new FaasError('shutting_down', 'orchestrator is shutting down', { fn: this.def.name }));
    this.lastWakeAt = this.deps.now();
    if (this.readyCount() > 0 && this.published === 'warm' && !this.stoppingLast) {
      this.resetWaking();
      return Promise.resolve();
    }
    this.wakeIds.add(requestId);
    this.waking = Math.max(this.wakeIds.size, waiting);
    if (this.stoppingLast) this.wokenWhileStopping = true;
    // A burst while the first instances start: add instances as the held requests need.
    if (this.cold && this.set.census().starting > 0) this.growColdStart(requestId);
    if (!this.cold) {
      this.cold = this.serial
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
          this.cold = undefined;
          if (this.readyCount() > 0) this.resetWaking();
        });
    }
    return this.cold;
  }

  private resetWaking(): void {
    this.waking = 0;
    this.wakeIds.clear();
  }

  /** Instances the wakes and metrics ask for, from zero; at least one. */
  private coldDesired(): number {
    const census = this.set.census();
    const { signals } = observe({ now: this.deps.now(), metrics: undefined, instances: this.set.all(), history: [], windowMs: this.def.scaling.stableWindowMs, lastWakeAt: this.lastWakeAt, waking: this.waking });
    const d = this.deps.decideScale(this.def.scaling, signals, census, this.autoscaler);
    return Math.max(1, Math.min(d.desired, this.def.scaling.maxInstances));
  }

  private async coldStart(requestId: string): Promise<void> {
    if (this.set.size >= this.def.scaling.maxInstances) {
      throw new FaasError('max_instances', `function ${this.def.name} is at max_instances ${this.def.scaling.maxInstances}`, { fn: this.def.name });
    }
    await this.publish('starting');
    const n = Math.min(this.coldDesired(), this.def.scaling.maxInstances - this.set.size);
    this.log.info('scale_decision', { reason: 'wake', desired: n, waking: this.waking, requestId });
    const results = await Promise.allSettled(Array.from({ length: n }, () => addInstance(this, requestId, true)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (this.readyCount() === 0 && failed) throw failed.reason;
  }

  private growColdStart(requestId: string): void {
    const census = this.set.census();
    const more = Math.min(this.coldDesired() - census.starting - census.ready, this.def.scaling.maxInstances - this.set.size);
    for (let k = 0; k < more; k += 1) this.track(addInstance(this, requestId, true).then(() => undefined), 'scale_up_failed');
  }

  /** One reconcile round: observe, decide, act. Acts run on; `settled()` awaits them. */
  async tick(metrics: FunctionMetrics | undefined, trigger: TickTrigger = 'cadence'): Promise<ScaleDecision> {
    await this.refreshStats();
    const now = this.deps.now();
    const census = this.set.census();
    const { signals, history } = observe({
      now, metrics, instances: this.set.all(), history: this.history, windowMs: this.def.scaling.stableWindowMs,
      lastWakeAt: this.lastWakeAt, waking: census.ready > 0 ? 0 : this.waking,
    });
    // An alert only brings the decision forward: the windows keep one sample per cadence tick.
    if (trigger === 'cadence') this.history = history;
    const d = this.deps.decideScale(this.def.scaling, signals, census, this.autoscaler);
    this.autoscaler = d.next;
    this.deps.metrics.instances(this.def.name, this.set.size);
    if (!this.closed && !this.cold && !this.rollingOut) this.act(d, trigger);
    if (!this.closed) this.track(this.deps.warmPool.sweep(now), 'paused_sweep_failed');
    return d;
  }

  private act(d: ScaleDecision, trigger: TickTrigger): void {
    const c = this.set.census();
    const current = c.ready + c.starting;
    const key = `${d.desired}/${current}/${d.reason}`;
    const changes = d.desired !== current;
    const fields = { desired: d.desired, reason: d.reason, panic: d.panic, trigger, census: c, inputs: d.inputs };
    if (changes && key !== this.lastLogged) this.log.info('scale_decision', fields);
    else this.log.debug('scale_decision', fields);
    this.lastLogged = key;
    if (d.desired > current) {
      const n = Math.min(d.desired, this.def.scaling.maxInstances - c.draining) - current;
      if (c.ready === 0) this.track(this.ensureWarm('autoscaler'), 'scale_up_failed');
      else for (let k = 0; k < n; k += 1) this.track(addInstance(this, 'autoscaler', false).then(() => undefined), 'scale_up_failed');
      return;
    }
    if (d.desired >= c.ready || c.starting > 0) return;
    const ready = this.set.inState('ready').filter((i) => !this.removing.has(i.id));
    if (d.desired === 0 && c.ready === 1 && ready[0]) {
      this.track(this.scaleDown(ready[0].id, d.reason), 'scale_down_failed');
      return;
    }
    // The last one always leaves through scaleDown's gateway-grace path, on a later tick.
    const now = this.deps.now();
    const victims = chooseDrainVictims(
      ready.map((i) => ({ id: i.id, phase: 'ready' as const, inflight: i.stats?.inflight ?? 0, lastActivityAt: now - (i.stats?.idleMs ?? 0), startedAt: i.since })),
      Math.max(1, d.desired),
    );
    for (const v of victims) this.track(this.scaleDown(v.id, d.reason), 'scale_down_failed');
  }

  private track(p: Promise<void>, event: string): void {
    const w = p.catch((err: unknown) => this.log.error(event, { error: err }));
    this.work.add(w);
    void w.finally(() => this.work.delete(w));
  }

  /** Resolves when every act started so far has finished (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.work.size > 0) await Promise.all([...this.work]);
  }

  /** Read every instance's in-flight figures; detect instances that stopped answering (instance-stats.ts). */
  refreshStats(): Promise<void> {
    return refreshStats(this, (containerId) => this.track(this.instanceDied(containerId), 'instance_cleanup_failed'));
  }

  /** Remove one instance (drain.ts); the last one first holds gateways (last-removal.ts). */
  scaleDown(instanceId: string, reason: string): Promise<void> {
    if (this.removing.has(instanceId)) return Promise.resolve();
    const inst = this.set.get(instanceId);
    if (!inst || inst.state !== 'ready') return Promise.resolve();
    this.removing.add(instanceId);
    const run = async () => {
      const c = this.set.census();
      if (c.ready === 1 && c.starting === 0) {
        await this.serial.run(() => lastRemoval(this, inst, reason));
        return;
      }
      this.log.info('scale_down_begin', { instance: instanceId, reason, last: false });
      if (await drainAndRemove(this, inst)) this.log.info('scale_down_done', { instance: instanceId, reason });
      this.publishCounts();
    };
    return run().finally(() => this.removing.delete(instanceId));
  }

  /** A container of ours died (`exit` from the die event, else inspected): withdraw its endpoint at once, then clean up. */
  async instanceDied(containerId: string, exit?: ExitInfo): Promise<void> {
    const inst = this.set.byContainer(containerId);
    if (!inst) return;
    this.log.warn('instance_died', { instance: inst.id, containerId, state: inst.state });
    // A starting instance is cleaned up by its own start, which sees the probe fail.
    if (inst.state === 'starting') return;
    this.set.transition(inst, 'stopped', this.deps.now());
    // Inspected at once, beside the withdrawal: a client may be waiting to learn of an OOM kill.
    const reported = reportExit(this, inst.id, containerId, exit);
    const withdrawn = this.push().catch((err: unknown) => this.log.warn('endpoint_withdraw_failed', { instance: inst.id, error: err }));
    if (this.readyCount() === 0 && !this.stoppingLast) await this.publish('cold').catch((err: unknown) => this.log.warn('state_publish_failed', { error: err }));
    else this.publishCounts();
    await Promise.all([withdrawn, reported]);
    await this.deps.driver.stop(containerId, 0).catch((err: unknown) => this.log.error('container_leak', { instance: inst.id, containerId, error: err }));
  }

  /** Publish the current state again (Redis lost its data, e.g. restarted without persistence). */
  republish(): Promise<void> {
    // Not through the Serial: a cold start can hold it for seconds while gateways see nothing.
    return this.deps.state.set(this.def.name, this.def.version, this.intended, this.set.census(), this.tier).then(() => undefined);
  }

  /** Take over a container found at start-up: running (ready, or an old version's to drain), or a warm tier's (its TTL starts again). */
  adopt(i: { id: string; containerId: string; address: string; port: number; version?: string; state?: 'ready' | 'draining'; tier?: 'paused' | 'created' }): void {
    const now = this.deps.now();
    const version = i.version ?? this.def.version;
    this.set.add({ id: i.id, version, containerId: i.containerId, endpoint: i.tier === 'created' ? undefined : { address: i.address, port: i.port }, state: i.tier ?? i.state ?? 'ready', since: now, stats: undefined, statsFailures: 0, warm: i.tier ? { pausedAt: now, version } : undefined });
    this.log.info('instance_adopted', { instance: i.id, containerId: i.containerId, version, state: i.tier ?? i.state ?? 'ready', ...(i.tier ? { tier: i.tier } : {}) });
  }

  /** Shut down: hold new requests at the gateways, drain in the router, stop every container. */
  async close(): Promise<void> {
    this.closed = true;
    // Outside the Serial: a tracked last-instance removal runs inside it.
    await this.settled();
    return this.serial.run(() => shutdownInstances(this));
  }
}
