/**
 * When function ticks run: every statsIntervalMs for all functions (the autoscaler's fixed
 * cadence: one window sample per tick, router metrics of all functions in one Redis pipeline),
 * and at once for one function when a demand alert arrives (requests queue in a router: the
 * decision is brought forward instead of waiting up to a cadence). One tick in flight per
 * function: a slow function skips its own cadence rounds, never the others'; an alert that
 * arrives during a tick runs right after it, with the newest alert's figures.
 */
import type { DemandAlert, FunctionMetrics, Logger } from '@faas/contracts';

/** What started a tick: the cadence samples the windows; an alert only decides earlier. */
export type TickTrigger = 'cadence' | 'demand_alert';

export interface Tickable {
  readonly def: { readonly name: string };
  tick(metrics: FunctionMetrics | undefined, trigger: TickTrigger): Promise<unknown>;
}

export interface TickLoopOptions<C extends Tickable> {
  controllers: ReadonlyMap<string, C>;
  /** Router metrics of these functions (a failed read rejects: the round runs without them). */
  readMetrics(fns: string[]): Promise<Map<string, FunctionMetrics | undefined>>;
  intervalMs: number;
  log: Logger;
  /** Clock for the alert log (tests); default Date.now. */
  now?: () => number;
  /** Runs after each successful tick of a function (not awaited: e.g. a rollout's stale sweep). */
  afterTick?: (fn: string) => void;
}

/** Alerts of one function closer than this belong to one overload episode: logged once at info. */
const EPISODE_GAP_MS = 10_000;

export class TickLoop<C extends Tickable> {
  private readonly ticking = new Set<string>();
  private readonly queued = new Map<string, FunctionMetrics>();
  private readonly lastAlertAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: TickLoopOptions<C>) {}

  start(): void {
    this.timer ??= setInterval(() => { void this.round(); }, this.opts.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.queued.clear();
  }

  /** A demand alert (already validated): that function's tick now, or right after the running one. */
  alert(a: DemandAlert): void {
    if (this.stopped) return;
    const ctl = this.opts.controllers.get(a.fn);
    if (!ctl) {
      // The listener's defined set lags a definition change by a few seconds: nothing to do.
      this.opts.log.debug('demand_alert_unknown_function', { fn: a.fn });
      return;
    }
    this.logAlert(a);
    if (this.ticking.has(a.fn)) this.queued.set(a.fn, a.metrics);
    else this.run(ctl, a.metrics, 'demand_alert');
  }

  /** One info line when a function's overload starts, debug for the alerts that follow it. */
  private logAlert(a: DemandAlert): void {
    const now = (this.opts.now ?? Date.now)();
    const last = this.lastAlertAt.get(a.fn);
    this.lastAlertAt.set(a.fn, now);
    const fields = { fn: a.fn, reason: a.reason, pending: a.metrics.rqPendingActive, inflight: a.metrics.rqActive, routers: a.metrics.routers };
    if (last === undefined || now - last >= EPISODE_GAP_MS || now < last) this.opts.log.info('demand_alert', fields);
    else this.opts.log.debug('demand_alert', fields);
  }

  /** One cadence round. */
  private async round(): Promise<void> {
    if (this.stopped) return;
    const { controllers, log } = this.opts;
    const figures = await this.opts.readMetrics([...controllers.keys()]).catch((err: unknown) => {
      log.warn('metrics_read_failed', { error: err });
      return new Map<string, FunctionMetrics | undefined>();
    });
    if (this.stopped) return;
    for (const [fn, ctl] of controllers) {
      if (!this.ticking.has(fn)) this.run(ctl, figures.get(fn), 'cadence');
    }
  }

  private run(ctl: C, metrics: FunctionMetrics | undefined, trigger: TickTrigger): void {
    const fn = ctl.def.name;
    this.ticking.add(fn);
    void ctl.tick(metrics, trigger)
      .then(() => this.opts.afterTick?.(fn))
      .catch((err: unknown) => this.opts.log.error('tick_failed', { fn, trigger, error: err }))
      .finally(() => {
        this.ticking.delete(fn);
        const next = this.queued.get(fn);
        if (next === undefined || this.stopped) return;
        this.queued.delete(fn);
        this.run(ctl, next, 'demand_alert');
      });
  }
}
