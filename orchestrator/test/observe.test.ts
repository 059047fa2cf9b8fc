/** observe.ts: router metrics and runtime figures into demand samples and scale signals. Pure. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FunctionMetrics } from '@faas/contracts';
import type { Instance } from '../src/instance-set';
import { demandSample, metricsFresh, observe } from '../src/observe';

const now = 100_000;
const m = (over: Partial<FunctionMetrics> = {}): FunctionMetrics => ({
  rqActive: 3, rqPendingActive: 5, rqPerSecond: 10, pendingOverflow: 1, noneHealthy: 0,
  latencyMedianMs: 5, latencyP99Ms: 9, routers: 1, windowMs: 1000, updatedAt: now - 500, ...over,
});
const inst = (id: string, inflight: number, idleMs: number): Instance => ({
  id, version: '1', containerId: `c-${id}`, endpoint: { address: '127.0.0.1', port: 1 }, state: 'ready', since: 0,
  stats: { inflight, served: 0, idleMs, ready: true, draining: false }, statsFailures: 0,
});

describe('observe', () => {
  it('in flight is the larger of the router and runtime figures; pending comes from the router', () => {
    assert.deepEqual(demandSample(m(), [inst('a', 2, 0)], now), { at: now, inflight: 3, pending: 5 });
    assert.deepEqual(demandSample(m(), [inst('a', 2, 0), inst('b', 4, 0)], now), { at: now, inflight: 6, pending: 5 });
  });
  it('stale or missing router metrics count as no router data', () => {
    assert.equal(metricsFresh(m({ updatedAt: now - 3001 }), now), false);
    assert.equal(metricsFresh(m({ routers: 0 }), now), false);
    assert.equal(metricsFresh(undefined, now), false);
    assert.deepEqual(demandSample(m({ updatedAt: 0 }), [inst('a', 1, 0)], now), { at: now, inflight: 1, pending: 0 });
  });
  it('keeps the window of samples, and last activity is the latest of a wake and the instances', () => {
    const { signals, history } = observe({
      now, metrics: m(), instances: [inst('a', 0, 4000), inst('b', 0, 9000)],
      history: [{ at: now - 70_000, inflight: 9, pending: 0 }, { at: now - 1000, inflight: 1, pending: 0 }],
      windowMs: 60_000, lastWakeAt: now - 5000, waking: 0,
    });
    assert.deepEqual(history.map((s) => s.at), [now - 1000, now]);
    assert.equal(signals.lastActivityAt, now - 4000);
    assert.equal(signals.overflow, 1);
    assert.equal(signals.routerMetricsFresh, true);
  });
});
