/**
 * Version rollouts of one function, one at a time, the newest request winning:
 *   build the new image (a failure marks that version failed; the old one keeps serving) ->
 *   cold: swap the definition (the next wake starts the new version) | warm: start as many
 *   new-version instances as the old version has ready, wait for their readiness ->
 *   ONE router push: new instances HEALTHY, old ones DRAINING, ACKed by every router (new
 *   requests go to the new version, in-flight ones finish on the old) ->
 *   the old instances drain (drain.ts, bounded by the old version's timeout) and stop.
 * A request arriving before the switch supersedes the running rollout (its new instances are
 * stopped); after the switch the old instances drain while the next rollout starts.
 * While a rollout owns the instance set the controller's autoscaler does not act.
 */
import { FaasError, type FunctionDefinition, type FunctionStatus, type Logger } from '@faas/contracts';
import { rolloutReasons } from './apply-plan';
import { finishDrain } from './drain';
import type { FunctionController } from './function-controller';
import type { Instance } from './instance-set';
import { type RolloutPlan, type SwitchPlan, planRollout, planSwitch } from './rollout-plan';
import { liveStandby, startStandby, stopStandby } from './standby';
import { VersionBook } from './versions';

const ERROR_CHARS = 4000;

/** An error as the status endpoint shows it: the message, whose end holds a build's log tail. */
export function errorText(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.length > ERROR_CHARS ? `…${msg.slice(-ERROR_CHARS)}` : msg;
}

type Ready = Exclude<RolloutPlan, { kind: 'wait' }>;

export class FunctionRollouts {
  readonly versions: VersionBook;
  private wanted: FunctionDefinition | undefined;
  /** Bumped by every request and by cancel(): a rollout whose generation moved on is superseded. */
  private generation = 0;
  private running: Promise<void> | undefined;
  private readonly drains = new Set<Promise<void>>();

  constructor(readonly ctl: FunctionController) {
    this.versions = new VersionBook(ctl.deps.now);
  }

  /** The outcome of building the serving definition's image (at start-up or when added). */
  built(result: { image: string } | { error: unknown }): void {
    if ('image' in result) this.versions.set(this.ctl.def.version, 'active', { image: result.image });
    else this.versions.set(this.ctl.def.version, 'failed', { error: errorText(result.error) });
  }

  /**
   * Roll out `to`. Resolves once the newest requested definition serves (or failed) and the
   * old instances are gone; never rejects (every failure is logged and shown in status()).
   */
  request(to: FunctionDefinition): Promise<void> {
    this.generation += 1;
    this.wanted = to;
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
    });
    return this.settled();
  }

  /** Removal or shutdown: a rollout that has not switched stops at its next step. */
  cancel(): void {
    this.generation += 1;
    this.wanted = undefined;
  }

  /** No rollout running (old instances may still drain). */
  idle(): boolean {
    return this.running === undefined;
  }

  async settled(): Promise<void> {
    while (this.running || this.drains.size > 0) await Promise.all([this.running, ...this.drains]);
  }

  status(): FunctionStatus {
    const { ctl } = this;
    // A failed first build is retried by the next wake: once that version serves, it is active.
    if (this.versions.state(ctl.def.version) === 'failed' && !this.running && ctl.set.all().some((i) => i.version === ctl.def.version && i.state === 'ready')) {
      this.versions.set(ctl.def.version, 'active');
    }
    return this.versions.status(ctl.def.name, ctl.set.all());
  }

  /**
   * Safety net, called every tick: a ready instance of another version (a start that raced a
   * switch) is drained, as long as an instance of the serving version takes its place.
   * Resolves when those drains end (never rejects); the tick loop does not wait for it.
   */
  sweepStale(): Promise<void> {
    const { ctl } = this;
    if (ctl.rollingOut || ctl.closed || this.running) return Promise.resolve();
    const ready = ctl.set.inState('ready');
    if (!ready.some((i) => i.version === ctl.def.version)) return Promise.resolve();
    return Promise.all(ready.filter((i) => i.version !== ctl.def.version).map((i) => {
      ctl.log.warn('stale_version_instance', { instance: i.id, version: i.version, serving: ctl.def.version });
      return ctl.scaleDown(i.id, 'stale_version').catch((err: unknown) => ctl.log.error('scale_down_failed', { instance: i.id, error: err }));
    })).then(() => undefined);
  }

  private async loop(): Promise<void> {
    for (let to = this.wanted; to; to = this.wanted) {
      this.wanted = undefined;
      const version = to.version;
      await this.rollOne(to, this.generation).catch((err: unknown) => this.ctl.log.error('rollout_failed', { version, stage: 'unexpected', error: err }));
    }
  }

  private async rollOne(to: FunctionDefinition, gen: number): Promise<void> {
    const { ctl } = this;
    const { deps } = ctl;
    const from = ctl.def;
    const t0 = deps.now();
    const log = ctl.log.child({ from: from.version, to: to.version });
    const superseded = () => gen !== this.generation || ctl.closed;
    const reasons = rolloutReasons(from, to);
    // The same version string with other settings is tracked under the one entry.
    const newVersion = to.version !== from.version;
    if (newVersion) {
      this.versions.dropFailed(to.version);
      this.versions.set(to.version, 'building');
    }
    let image: string;
    try {
      image = await deps.image(to);
    } catch (err) {
      if (newVersion) this.versions.set(to.version, 'failed', { error: errorText(err) });
      log.error('rollout_failed', { stage: 'build', reasons, error: err });
      return;
    }
    if (reasons.length === 0) {
      // Same settings: only another image (code changed under the same version) needs instances.
      // The old image unknown (its build failed): not the same image, so roll out.
      if ((await deps.image(from).catch(() => undefined)) === image) {
        ctl.def = to;
        return;
      }
      reasons.push('code');
    }
    if (superseded()) return this.superseded(to, log);
    if (newVersion) this.versions.set(to.version, 'starting', { image });
    log.info('rollout_begin', { reasons, image });
    ctl.rollingOut = true;
    let old: Instance[] = [];
    try {
      const plan = await this.waitPlan(to);
      if (plan.kind === 'switch_definition') {
        await this.switchCold(from, to, image, log);
        log.info('rollout_done', { mode: 'cold', totalMs: deps.now() - t0 });
        return;
      }
      if (plan.overMax > 0) log.info('rollout_over_max_instances', { overMax: plan.overMax, maxInstances: to.scaling.maxInstances });
      const started = await Promise.allSettled(Array.from({ length: plan.start }, () => startStandby(ctl, to, image)));
      const standby = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const firstError = started.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason as unknown;
      if (superseded()) {
        await stopStandby(ctl, standby);
        return this.superseded(to, log);
      }
      const { live, dead } = await liveStandby(ctl, standby);
      if (dead.length > 0) await stopStandby(ctl, dead);
      const sw = planSwitch(ctl.set.all(), new Set(live.map((i) => i.id)));
      if (sw.kind === 'abort') {
        this.fail(to, 'start', new FaasError('rollout_start_failed', `${sw.reason}${firstError === undefined ? '' : `: ${errorText(firstError)}`}`, { fn: to.name }), log);
        return;
      }
      old = await this.switchWarm(from, to, image, sw, live, log);
    } catch (err) {
      this.fail(to, 'start', err, log);
      return;
    } finally {
      ctl.rollingOut = false;
    }
    this.drainOld(from, to, old, log, t0);
  }

  /** Instances still starting (a cold start, a scale-up) finish first: a start ends by its readiness timeout. */
  private async waitPlan(to: FunctionDefinition): Promise<Ready> {
    const { deps } = this.ctl;
    const deadline = deps.now() + 2 * deps.readinessTimeoutMs;
    for (;;) {
      const plan = planRollout(this.ctl.set.all(), to.scaling.maxInstances);
      if (plan.kind !== 'wait') return plan;
      if (deps.now() > deadline) throw new FaasError('rollout_wait_timeout', `instances still starting after ${2 * deps.readinessTimeoutMs} ms: ${plan.reason}`, { fn: to.name });
      await deps.sleep(deps.drainPollMs);
    }
  }

  /** Nothing serves: the next wake starts the new version; the route takes its settings now. */
  private async switchCold(from: FunctionDefinition, to: FunctionDefinition, image: string, log: Logger): Promise<void> {
    const { ctl } = this;
    ctl.def = to;
    // A failed push is repaired by the periodic route reconcile; the new settings apply there.
    await ctl.push().catch((err: unknown) => log.warn('rollout_route_push_failed', { error: err }));
    ctl.publishCounts();
    this.activate(from, to, image, false);
  }

  /** The one push that moves new requests to the new version; the old instances to drain. */
  private async switchWarm(from: FunctionDefinition, to: FunctionDefinition, image: string, sw: Extract<SwitchPlan, { kind: 'switch' }>, live: Instance[], log: Logger): Promise<Instance[]> {
    const { ctl } = this;
    const { deps, set } = ctl;
    const old = sw.drain.flatMap((id) => set.get(id) ?? []);
    const t = deps.now();
    for (const i of live) set.transition(i, 'ready', t);
    for (const i of old) set.transition(i, 'draining', t);
    ctl.def = to;
    try {
      await ctl.push();
    } catch (err) {
      // Not every router took the switch: back to the old version, which never stopped serving.
      ctl.def = from;
      for (const i of old) if (i.state === 'draining') set.transition(i, 'ready', deps.now());
      await stopStandby(ctl, live);
      await ctl.push().catch((e: unknown) => log.warn('rollout_revert_push_failed', { error: e }));
      throw new FaasError('rollout_switch_failed', `routers did not take the switch: ${errorText(err)}`, { fn: to.name }, { cause: err });
    }
    await ctl.publish('warm').catch((err: unknown) => log.warn('state_publish_failed', { state: 'warm', error: err }));
    this.activate(from, to, image, old.length > 0);
    log.info('rollout_switched', { promoted: live.map((i) => i.id), draining: old.map((i) => i.id), switchMs: deps.now() - t });
    return old;
  }

  private activate(from: FunctionDefinition, to: FunctionDefinition, image: string, draining: boolean): void {
    this.versions.set(to.version, 'active', { image });
    void this.pruneImages(from, image);
    if (from.version === to.version) return;
    if (draining) this.versions.set(from.version, 'draining');
    else this.versions.drop(from.version);
  }

  /** Old builds pile up otherwise: the active and the previous version's images stay (a rollback). */
  private async pruneImages(from: FunctionDefinition, image: string): Promise<void> {
    const { deps, log } = this.ctl;
    if (!deps.pruneImages) return;
    // Cached: the previous version served, so its image was resolved before.
    // Its build failed: nothing of it to keep, only the active image is.
    const previous = await deps.image(from).catch(() => undefined);
    await deps.pruneImages(from.name, previous && previous !== image ? [image, previous] : [image])
      .catch((err: unknown) => log.warn('image_prune_failed', { error: err }));
  }

  private drainOld(from: FunctionDefinition, to: FunctionDefinition, old: Instance[], log: Logger, t0: number): void {
    const { ctl } = this;
    const p = Promise.all(old.map((i) => finishDrain(ctl, i, from.timeoutMs))).then((outcomes) => {
      const left = ctl.set.all().some((i) => i.version === from.version && from.version !== ctl.def.version);
      if (!left && this.versions.state(from.version) === 'draining') this.versions.drop(from.version);
      log.info('rollout_done', { mode: 'warm', version: to.version, drained: old.length, outcomes, totalMs: ctl.deps.now() - t0 });
    }).catch((err: unknown) => log.error('rollout_drain_failed', { error: err }));
    this.drains.add(p);
    void p.finally(() => this.drains.delete(p));
  }

  private superseded(to: FunctionDefinition, log: Logger): void {
    if (to.version !== this.ctl.def.version && this.versions.state(to.version) !== 'active') this.versions.drop(to.version);
    log.info('rollout_superseded', { version: to.version });
  }

  private fail(to: FunctionDefinition, stage: string, err: unknown, log: Logger): void {
    if (to.version !== this.ctl.def.version) this.versions.set(to.version, 'failed', { error: errorText(err) });
    log.error('rollout_failed', { stage, error: err });
  }
}
