/** TickLoop: the cadence over all functions, demand alerts at once, one tick in flight per function. Mock timers, no sleeps. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { type DemandAlert, type FunctionMetrics, createLogger } from '@faas/contracts';
import { type TickTrigger, TickLoop } from '../src/tick-loop';

const quiet = createLogger('orchestrator', {}, () => undefined);
const figures = (rqPendingActive: number): FunctionMetrics => ({
  rqActive: 2, rqPendingActive, rqPerSecond: 0, pendingOverflow: 0, noneHealthy: 0, latencyMedianMs: -1, latencyP99Ms: -1, routers: 1, windowMs: 1000, updatedAt: 0,
});
const alert = (fn: string, pending: number): DemandAlert => ({ fn, reason: 'pending', metrics: figures(pending) });

class FakeController {
  readonly calls: { trigger: TickTrigger; pending: number | undefined }[] = [];
  private release: (() => void) | undefined;
  /** While true, a tick stays in flight until finish(). */
  hold = false;
  constructor(readonly def: { name: string }) {}
  tick(m: FunctionMetrics | undefined, trigger: TickTrigger): Promise<void> {
    this.calls.push({ trigger, pending: m?.rqPendingActive });
    if (!this.hold) return Promise.resolve();
    return new Promise((r) => { this.release = r; });
  }
  finish(): void {
    this.release?.();
    this.release = undefined;
  }
}

/** Lets resolved promises run (the loop's .finally chains). */
const settle = async () => { for (let i = 0; i < 5; i++) await Promise.resolve(); };

describe('TickLoop', () => {
  let a: FakeController;
  let b: FakeController;
  let loop: TickLoop<FakeController>;
  beforeEach(() => {
    mock.timers.enable({ apis: ['setInterval'] });
    a = new FakeController({ name: 'a' });
    b = new FakeController({ name: 'b' });
    loop = new TickLoop({
      controllers: new Map([['a', a], ['b', b]]),
      readMetrics: async (fns) => new Map(fns.map((fn) => [fn, figures(0)])),
      intervalMs: 1000,
      log: quiet,
    });
    loop.start();
  });
  afterEach(() => {
    loop.stop();
    mock.timers.reset();
  });

  it('ticks every function once per interval with the read figures', async () => {
    mock.timers.tick(1000);
    await settle();
    mock.timers.tick(1000);
    await settle();
    assert.deepEqual(a.calls, [{ trigger: 'cadence', pending: 0 }, { trigger: 'cadence', pending: 0 }]);
    assert.equal(b.calls.length, 2);
  });

  it('a demand alert ticks that function at once, before any cadence', () => {
    loop.alert(alert('a', 3));
    assert.deepEqual(a.calls, [{ trigger: 'demand_alert', pending: 3 }]);
    assert.deepEqual(b.calls, []);
  });

  it('an alert during a running tick runs right after it, with the newest figures; the cadence skips a busy function', async () => {
    a.hold = true;
    loop.alert(alert('a', 1));
    loop.alert(alert('a', 2));
    loop.alert(alert('a', 4));
    mock.timers.tick(1000);
    await settle();
    assert.deepEqual(a.calls.map((c) => c.pending), [1], 'one tick in flight');
    assert.equal(b.calls.length, 1, 'the other function is not held up');
    a.hold = false;
    a.finish();
    await settle();
    assert.deepEqual(a.calls, [{ trigger: 'demand_alert', pending: 1 }, { trigger: 'demand_alert', pending: 4 }]);
  });

  it('logs one demand_alert line per overload episode at info, the rest at debug', () => {
    const lines: { level: string; event: string }[] = [];
    let now = 0;
    const level = process.env.FAAS_LOG_LEVEL;
    process.env.FAAS_LOG_LEVEL = 'debug';
    const log = createLogger('orchestrator', {}, (l) => lines.push(JSON.parse(l) as { level: string; event: string }));
    if (level === undefined) delete process.env.FAAS_LOG_LEVEL;
    else process.env.FAAS_LOG_LEVEL = level;
    const l = new TickLoop({ controllers: new Map([['a', a]]), readMetrics: async () => new Map(), intervalMs: 1000, log, now: () => now });
    for (const t of [0, 250, 500, 20_000]) {
      now = t;
      l.alert(alert('a', 3));
    }
    l.stop();
    assert.deepEqual(lines.filter((x) => x.event === 'demand_alert').map((x) => x.level), ['info', 'debug', 'debug', 'info']);
  });

  it('ignores alerts for unknown functions and after stop', () => {
    loop.alert(alert('ghost', 3));
    loop.stop();
    loop.alert(alert('a', 3));
    assert.deepEqual(a.calls, []);
  });

  it('a failed metrics read still ticks, without figures', async () => {
    loop.stop();
    const c = new FakeController({ name: 'c' });
    const l = new TickLoop({ controllers: new Map([['c', c]]), readMetrics: () => Promise.reject(new Error('redis down')), intervalMs: 1000, log: quiet });
    l.start();
    mock.timers.tick(1000);
    await settle();
    l.stop();
    assert.deepEqual(c.calls, [{ trigger: 'cadence', pending: undefined }]);
  });
});
