/**
 * Table tests of decideScale: every input is given, `now` included; no timers, no sleeps.
 * Settings use 10 × 0.5 = 5 concurrent requests per instance so the arithmetic reads plainly.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCALING_DEFAULTS, type ScalingSettings } from '@faas/contracts';
import { decideScale } from '../src/autoscaler/decide';
import { INITIAL_AUTOSCALER_STATE, type AutoscalerState, type DemandSample, type InstanceCensus, type ScaleDecision, type ScaleSignals } from '../src/autoscaler/types';

const T0 = 1_700_000_000_000;
const settings = (o: Partial<ScalingSettings> = {}): ScalingSettings => ({ ...SCALING_DEFAULTS, maxInstances: 20, targetConcurrency: 10, targetUtilization: 0.5, ...o });

/** `n` samples one second apart ending at `now`; demand(i) for i = 0 (oldest) .. n-1 (newest). */
function samples(now: number, n: number, demand: number | ((i: number) => number)): DemandSample[] {
  return Array.from({ length: n }, (_, i) => ({ at: now - (n - 1 - i) * 1000, inflight: typeof demand === 'number' ? demand : demand(i), pending: 0 }));
}
const signals = (now: number, s: DemandSample[], o: Partial<ScaleSignals> = {}): ScaleSignals => ({
  now, samples: s, overflow: 0, noneHealthy: 0, routerMetricsFresh: true, lastActivityAt: now, waking: 0, ...o,
});
const ready = (n: number, starting = 0): InstanceCensus => ({ ready: n, starting, draining: 0 });
const decide = (sig: ScaleSignals, census: InstanceCensus, o: Partial<ScalingSettings> = {}, state: AutoscalerState = INITIAL_AUTOSCALER_STATE): ScaleDecision =>
  decideScale(settings(o), sig, census, state);

describe('decideScale: one decision', () => {
  const cases: { name: string; sig: ScaleSignals; census: InstanceCensus; o?: Partial<ScalingSettings>; desired: number; reason: string; panic?: boolean }[] = [
    { name: 'steady load at target', sig: signals(T0, samples(T0, 60, 20)), census: ready(4), desired: 4, reason: 'steady' },
    { name: 'pending counts as demand', sig: signals(T0, samples(T0, 60, 10).map((s) => ({ ...s, pending: 10 }))), census: ready(4), desired: 4, reason: 'steady' },
    { name: 'more steady load than capacity', sig: signals(T0, samples(T0, 60, 30)), census: ready(4), desired: 6, reason: 'stable_demand' },
    { name: 'less load: fewer', sig: signals(T0, samples(T0, 60, 10)), census: ready(4), desired: 2, reason: 'stable_demand' },
    { name: 'exact fit does not round up from float error', sig: signals(T0, samples(T0, 60, 7)), census: ready(1), o: { targetUtilization: 0.7 }, desired: 1, reason: 'steady' },
    { name: 'noise around one instance stays steady', sig: signals(T0, samples(T0, 60, (i) => (i % 2 === 0 ? 2 : 7))), census: ready(1), desired: 1, reason: 'steady', panic: false },
    { name: 'samples older than the stable window are ignored', sig: signals(T0, [...samples(T0 - 120_000, 30, 100), ...samples(T0, 60, 5)]), census: ready(1), desired: 1, reason: 'steady' },
    { name: 'max_instances caps', sig: signals(T0, samples(T0, 60, 200)), census: ready(10), desired: 20, reason: 'max_instances' },
    { name: 'min_instances raises at once', sig: signals(T0, samples(T0, 60, 0)), census: ready(0), o: { minInstances: 3 }, desired: 3, reason: 'min_instances' },
    { name: 'min_instances holds without load', sig: signals(T0, samples(T0, 60, 0), { lastActivityAt: T0 - 600_000 }), census: ready(3), o: { minInstances: 3 }, desired: 3, reason: 'steady' },
    { name: 'up rate: ceil(ready × rate)', sig: signals(T0, samples(T0, 60, 100)), census: ready(2), o: { maxScaleUpRate: 1.5 }, desired: 3, reason: 'rate_limited_up' },
    { name: 'up rate counts starting instances as already there', sig: signals(T0, samples(T0, 60, 100)), census: ready(1, 4), o: { maxScaleUpRate: 2 }, desired: 5, reason: 'rate_limited_up' },
    { name: 'up rate from zero is at least one ready', sig: signals(T0, samples(T0, 60, 500)), census: ready(0), desired: 10, reason: 'rate_limited_up' },
    { name: 'down rate: floor(current / rate)', sig: signals(T0, samples(T0, 60, 5)), census: ready(8), desired: 4, reason: 'rate_limited_down' },
    { name: 'active but no demand keeps one', sig: signals(T0, samples(T0, 60, 0), { lastActivityAt: T0 - 10_000 }), census: ready(1), desired: 1, reason: 'steady' },
    { name: 'idle: to zero', sig: signals(T0, samples(T0, 60, 0), { lastActivityAt: T0 - 30_000 }), census: ready(1), desired: 0, reason: 'idle' },
    { name: 'idle skips the down rate', sig: signals(T0, samples(T0, 60, 0), { lastActivityAt: T0 - 30_000 }), census: ready(8), desired: 0, reason: 'idle' },
    { name: 'idle to min, not below', sig: signals(T0, samples(T0, 60, 1), { lastActivityAt: T0 - 31_000 }), census: ready(4), o: { minInstances: 2 }, desired: 2, reason: 'idle' },
    { name: 'stale metrics: never down', sig: signals(T0, samples(T0, 60, 1), { routerMetricsFresh: false }), census: ready(4), desired: 4, reason: 'stale_metrics' },
    { name: 'stale metrics: never to zero when idle either', sig: signals(T0, samples(T0, 60, 0), { routerMetricsFresh: false, lastActivityAt: 0 }), census: ready(2), desired: 2, reason: 'stale_metrics' },
    { name: 'stale metrics: runtime in-flight still scales up', sig: signals(T0, samples(T0, 60, 30), { routerMetricsFresh: false }), census: ready(4), desired: 6, reason: 'stable_demand' },
    { name: 'no sample at all: hold', sig: signals(T0, []), census: ready(3), desired: 3, reason: 'stale_metrics' },
    { name: 'overflow: one more at once', sig: signals(T0, samples(T0, 60, 5), { overflow: 3 }), census: ready(2), desired: 3, reason: 'overflow' },
    { name: 'overflow while one is starting: no extra', sig: signals(T0, samples(T0, 60, 5), { overflow: 3 }), census: ready(2, 1), desired: 3, reason: 'overflow' },
    { name: 'no healthy upstream and nothing running: one', sig: signals(T0, samples(T0, 60, 0), { noneHealthy: 1 }), census: ready(0), desired: 1, reason: 'overflow' },
    { name: 'wake with no instance: one', sig: signals(T0, samples(T0, 60, 0), { waking: 1 }), census: ready(0), desired: 1, reason: 'wake' },
    { name: 'a held burst wakes as many as it needs', sig: signals(T0, samples(T0, 60, 0), { waking: 23 }), census: ready(0), desired: 5, reason: 'wake' },
    { name: 'a held burst is still bounded by max', sig: signals(T0, samples(T0, 60, 0), { waking: 230 }), census: ready(0), o: { maxInstances: 4 }, desired: 4, reason: 'max_instances' },
    { name: 'spike: panic on the panic window', sig: signals(T0, samples(T0, 60, (i) => (i >= 54 ? 40 : 5))), census: ready(1), desired: 8, reason: 'panic', panic: true },
    { name: 'just below the threshold: no panic', sig: signals(T0, samples(T0, 60, (i) => (i >= 54 ? 9 : 5))), census: ready(1), desired: 2, reason: 'stable_demand', panic: false },
    // Saturation: the newest sample alone, judged against the ready instances' target_concurrency.
    { name: 'saturated: the newest sample fills the ready instance, one more at once', sig: signals(T0, samples(T0, 60, (i) => (i === 59 ? 10 : 2))), census: ready(1), desired: 2, reason: 'saturated', panic: true },
    { name: 'saturated with requests queued: enough for all of them', sig: signals(T0, samples(T0, 60, (i) => (i === 59 ? 10 : 2)).map((s, i) => (i === 59 ? { ...s, pending: 8 } : s))), census: ready(1), desired: 4, reason: 'saturated', panic: true },
    { name: 'one slot free is not saturated', sig: signals(T0, samples(T0, 60, (i) => (i === 59 ? 9 : 2))), census: ready(1), desired: 1, reason: 'steady', panic: false },
    { name: 'saturation counts ready instances only; starting ones already cover it', sig: signals(T0, samples(T0, 60, (i) => (i === 59 ? 10 : 2))), census: ready(1, 1), desired: 2, reason: 'panic', panic: true },
    { name: 'a saturating sample older than the panic window does not count', sig: signals(T0, samples(T0 - 7000, 54, (i) => (i === 53 ? 10 : 2))), census: ready(1), desired: 1, reason: 'steady', panic: false },
    { name: 'no scale-down to a count the newest sample would saturate', sig: signals(T0, samples(T0, 60, (i) => (i >= 57 ? 20 : 2))), census: ready(3), desired: 3, reason: 'steady', panic: false },
    { name: 'scale-down stops just above the newest sample', sig: signals(T0, samples(T0, 60, (i) => (i === 59 ? 15 : 2))), census: ready(3), desired: 2, reason: 'stable_demand', panic: false },
    { name: 'saturation is still bounded by max', sig: signals(T0, samples(T0, 60, (i) => (i === 59 ? 30 : 2)).map((s, i) => (i === 59 ? { ...s, pending: 100 } : s))), census: ready(3), o: { maxInstances: 6 }, desired: 6, reason: 'max_instances', panic: true },
    { name: 'saturation is still bounded by the up rate', sig: signals(T0, samples(T0, 60, (i) => (i === 59 ? 10 : 2)).map((s, i) => (i === 59 ? { ...s, pending: 40 } : s))), census: ready(1), o: { maxScaleUpRate: 3 }, desired: 3, reason: 'rate_limited_up', panic: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decide(c.sig, c.census, c.o);
      assert.equal(d.desired, c.desired, JSON.stringify(d.inputs));
      assert.equal(d.reason, c.reason);
      if (c.panic !== undefined) assert.equal(d.panic, c.panic);
    });
  }

  it('reports the figures it used', () => {
    const d = decide(signals(T0, samples(T0, 60, (i) => (i >= 57 ? 12 : 6)), { lastActivityAt: T0 - 2000 }), ready(2, 1));
    assert.deepEqual(d.inputs, { stableDemand: (57 * 6 + 3 * 12) / 60, panicDemand: (3 * 6 + 3 * 12) / 6, capacityPerInstance: 5, current: 3, idleMs: 2000 });
  });

  it('is pure: a frozen state is not mutated and the same inputs give the same decision', () => {
    const state: AutoscalerState = Object.freeze({ panicSince: T0 - 1000, panicDesired: 3, recent: Object.freeze([Object.freeze({ at: T0 - 1000, desired: 3 })]) });
    const sig = signals(T0, samples(T0, 60, 12));
    const a = decide(sig, ready(3), { scaleDownDelayMs: 5000 }, state);
    const b = decide(sig, ready(3), { scaleDownDelayMs: 5000 }, state);
    assert.deepEqual(a, b);
    assert.deepEqual(state.recent, [{ at: T0 - 1000, desired: 3 }]);
  });
});

describe('decideScale: panic across ticks', () => {
  const o = { stableWindowMs: 60_000, panicWindowMs: 6_000 };
  const spike = (now: number) => samples(now, 60, (i) => (i >= 54 ? 40 : 5));
  it('enters, holds without scaling down, and exits a stable window after the last over-threshold tick', () => {
    const enter = decide(signals(T0, spike(T0)), ready(1), o);
    assert.equal(enter.panic, true);
    assert.equal(enter.next.panicSince, T0);
    assert.equal(enter.desired, 8);
    // Load falls back at once: still panicking (threshold now judged against 8 ready), held at 8.
    const hold = decide(signals(T0 + 10_000, samples(T0 + 10_000, 60, 2)), ready(8), o, enter.next);
    assert.equal(hold.panic, true);
    assert.equal(hold.desired, 8);
    assert.equal(hold.reason, 'panic');
    // A stable window after the last over-threshold tick: out of panic, the stable average decides.
    const exit = decide(signals(T0 + 60_000, samples(T0 + 60_000, 60, 2)), ready(8), o, hold.next);
    assert.equal(exit.panic, false);
    assert.equal(exit.next.panicSince, undefined);
    assert.equal(exit.next.panicDesired, 0);
    assert.equal(exit.desired, 4, 'down rate 2 from 8');
  });
  it('a new over-threshold tick extends the panic and can raise the hold', () => {
    const first = decide(signals(T0, spike(T0)), ready(1), o);
    const again = decide(signals(T0 + 50_000, samples(T0 + 50_000, 60, (i) => (i >= 54 ? 100 : 5))), ready(8), o, first.next);
    assert.equal(again.panic, true);
    assert.equal(again.next.panicSince, T0 + 50_000);
    assert.equal(again.desired, 20);
    const later = decide(signals(T0 + 100_000, samples(T0 + 100_000, 60, 0)), ready(20), o, again.next);
    assert.equal(later.panic, true, 'less than a stable window since the last over-threshold tick');
    assert.equal(later.desired, 20);
  });
});

describe('decideScale: saturation across ticks', () => {
  const o = { stableWindowMs: 60_000, panicWindowMs: 6_000 };
  it('holds like panic, and leaves only once the stable window wants what the present load needs', () => {
    // One instance saturated at T0: two at once.
    const enter = decide(signals(T0, samples(T0, 60, (i) => (i === 59 ? 10 : 0))), ready(1), o);
    assert.deepEqual([enter.desired, enter.reason, enter.panic], [2, 'saturated', true]);
    // A stable window later load is flat at 10 but the window still holds the climb to it: the
    // stable average wants 1 while the newest sample needs 2, so panic holds instead of flapping.
    const climb = (at: number) => samples(at, 60, (i) => (i < 50 ? i / 10 : 10));
    const lag = decide(signals(T0 + 60_000, climb(T0 + 60_000)), ready(2), o, enter.next);
    assert.deepEqual([lag.desired, lag.panic], [2, true]);
    // Once the window is all 10s it wants 2 too: panic ends, nothing is removed.
    const caught = decide(signals(T0 + 120_000, samples(T0 + 120_000, 60, 10)), ready(2), o, lag.next);
    assert.deepEqual([caught.desired, caught.panic, caught.reason], [2, false, 'steady']);
  });
});

describe('decideScale: scale_down_delay', () => {
  it('holds the highest recommendation of the delay, then lets go', () => {
    const o = { scaleDownDelayMs: 10_000 };
    const high = decide(signals(T0, samples(T0, 60, 25)), ready(5), o);
    assert.equal(high.desired, 5);
    const low = (at: number, state: AutoscalerState) => decide(signals(at, samples(at, 60, 5)), ready(5), o, state);
    const held = low(T0 + 5_000, high.next);
    assert.equal(held.desired, 5);
    assert.equal(held.reason, 'scale_down_delay');
    const free = low(T0 + 10_000, held.next);
    assert.equal(free.desired, 2, 'the T0 recommendation left the delay; the T0+5s one was floor(5 / 2) (down rate)');
    assert.ok(free.next.recent.every((r) => r.at > T0));
  });
  it('also holds the step to zero after idle_timeout', () => {
    const o = { scaleDownDelayMs: 10_000 };
    const busy = decide(signals(T0, samples(T0, 60, 15)), ready(3), o);
    const idleSig = (at: number) => signals(at, samples(at, 60, 0), { lastActivityAt: T0 - 30_000 });
    const held = decide(idleSig(T0 + 1_000), ready(3), o, busy.next);
    assert.deepEqual([held.desired, held.reason], [3, 'scale_down_delay']);
    const gone = decide(idleSig(T0 + 10_000), ready(3), o, held.next);
    assert.deepEqual([gone.desired, gone.reason], [0, 'idle']);
  });
  it('keeps no history when there is no delay', () => {
    assert.equal(decide(signals(T0, samples(T0, 60, 25)), ready(5)).next.recent.length, 0);
  });
});

/**
 * A small simulation: each tick the function gets `load(t)` concurrent requests; instances asked
 * for become ready one tick later; requests beyond capacity wait in the router (pending).
 */
function simulate(o: Partial<ScalingSettings>, load: (s: number) => number, seconds: number): { t: number; load: number; desired: number; reason: string; panic: boolean }[] {
  const s = settings(o);
  let state = INITIAL_AUTOSCALER_STATE;
  let census = ready(0);
  let lastActivityAt = 0;
  const history: DemandSample[] = [];
  const out: { t: number; load: number; desired: number; reason: string; panic: boolean }[] = [];
  for (let t = 0; t < seconds; t++) {
    const now = T0 + t * 1000;
    census = ready(census.ready + census.starting, 0);
    const offered = load(t);
    const capacity = census.ready * s.targetConcurrency;
    history.push({ at: now, inflight: Math.min(offered, capacity), pending: Math.max(0, offered - capacity) });
    if (history.length > 60) history.shift();
    if (offered > 0) lastActivityAt = now;
    const d = decideScale(s, signals(now, history, { lastActivityAt, waking: census.ready === 0 ? offered : 0 }), census, state);
    state = d.next;
    census = d.desired >= census.ready ? ready(census.ready, d.desired - census.ready) : ready(d.desired);
    out.push({ t, load: offered, desired: d.desired, reason: d.reason, panic: d.panic });
  }
  return out;
}

describe('decideScale: simulated load', () => {
  it('a ramp up and down follows load, stays within max, and returns to zero only after idle_timeout', () => {
    const o = { maxInstances: 8 };
    const load = (t: number) => (t < 40 ? t : t < 110 ? 40 : t < 150 ? 150 - t : 0);
    const run = simulate(o, load, 300);
    assert.ok(run.every((r) => r.desired <= 8));
    assert.ok(run.every((r) => r.load === 0 || r.desired >= 1), 'never zero under load');
    assert.equal(run[105]!.desired, 8, 'peak: 40 concurrent need 8');
    const lastLoad = 149;
    for (const r of run.slice(lastLoad, lastLoad + 30)) assert.ok(r.desired >= 1, `not idle yet at t=${r.t}`);
    assert.equal(run[lastLoad + 30]!.desired, 0);
    assert.equal(run[lastLoad + 30]!.reason, 'idle');
    assert.equal(run.at(-1)!.desired, 0);
    // The stable average alone lags a slow ramp by about half its window (Knative's trade-off);
    // saturation of the ready instances enters panic, which follows the panic window instead,
    // so the peak is reached with the load. It only rises while load rises, and never flaps.
    for (let t = 1; t < 110; t++) assert.ok(run[t]!.desired >= run[t - 1]!.desired, `dropped under rising load at t=${t}`);
    assert.ok(run.slice(10, 40).some((r) => r.reason === 'saturated' || r.panic), 'saturation while the load climbs');
    assert.equal(run[40]!.desired, 8, 'at the peak with the load');
  });
  it('a burst against a cold function starts several instances at once, not one', () => {
    const run = simulate({ maxInstances: 10 }, (t) => (t < 30 ? 30 : 0), 40);
    assert.equal(run[0]!.desired, 6);
  });
  it('steady load with noise does not flap', () => {
    const run = simulate({}, (t) => 20 + ((t * 7) % 5) - 2, 200);
    const settled = run.slice(60).map((r) => r.desired);
    assert.ok(Math.max(...settled) - Math.min(...settled) <= 1, settled.join(','));
    assert.ok(run.slice(60).every((r) => !r.panic));
  });
});
