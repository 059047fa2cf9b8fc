/** The pure parts of demand alerts: which figures call for one, the per-function bound, the aggregator's trigger and snapshot. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { FunctionMetrics } from '@faas/contracts';
import { MetricsAggregator } from '../src/aggregate';
import { DemandAlertGate, alertReason } from '../src/demand-alerts';
import { parseDatagram } from '../src/parse';

const lines = (...l: string[]) => parseDatagram(l.join('\n')).metrics;
const C = 'envoy.cluster.fn-';
const figures = (o: Partial<FunctionMetrics>): FunctionMetrics => ({
  rqActive: 0, rqPendingActive: 0, rqPerSecond: 0, pendingOverflow: 0, noneHealthy: 0, latencyMedianMs: -1, latencyP99Ms: -1, routers: 1, windowMs: 1000, updatedAt: 0, ...o,
});

test('alertReason: queued, shed or no healthy upstream, most severe first; busy but not queued is none', () => {
  const cases: [Partial<FunctionMetrics>, string | undefined][] = [
    [{ rqActive: 8 }, undefined],
    [{ rqPendingActive: 1 }, 'pending'],
    [{ rqPendingActive: 3, noneHealthy: 1 }, 'none_healthy'],
    [{ rqPendingActive: 3, noneHealthy: 1, pendingOverflow: 2 }, 'overflow'],
  ];
  for (const [m, want] of cases) assert.equal(alertReason(figures(m)), want, JSON.stringify(m));
});

test('DemandAlertGate: one slot per function per interval, per function, robust to a clock going back', () => {
  const g = new DemandAlertGate(250);
  assert.equal(g.take('a', 1000), true);
  assert.equal(g.take('a', 1100), false);
  assert.equal(g.take('b', 1100), true, 'another function has its own slot');
  assert.equal(g.take('a', 1250), true);
  assert.equal(g.take('a', 900), true, 'a clock that went back does not mute the function');
  g.prune(2000);
  assert.equal(g.size(), 0);
});

test('the aggregator names the functions a datagram shows queued, and snapshots one mid-window', () => {
  const a = new MetricsAggregator({ prefix: 'envoy', staleMs: 3000 });
  a.setDefined(['a', 'b']);
  assert.deepEqual(a.ingest('r1', lines(`${C}a.upstream_rq_active:2|g`, `${C}a.upstream_rq_pending_active:0|g`, `${C}a.upstream_rq_total:4|c`), 0), []);
  assert.deepEqual(a.ingest('r1', lines(`${C}a.upstream_rq_pending_active:2|g`, `${C}ghost.upstream_rq_pending_active:9|g`), 10), ['a']);
  assert.deepEqual(a.ingest('r2', lines(`${C}b.upstream_cx_none_healthy:1|c`, `${C}a.upstream_rq_pending_overflow:0|c`), 20), ['b']);
  assert.deepEqual(a.ingest('r2', lines(`${C}a.upstream_rq_active:1|g`, `${C}a.upstream_rq_pending_active:1|g`), 30), ['a']);
  const m = a.snapshot('a', 40, 1000);
  assert.deepEqual(m, figures({ rqActive: 3, rqPendingActive: 3, routers: 2, updatedAt: 40 }));
  assert.equal(a.snapshot('ghost', 40, 1000), undefined);
  // The snapshot leaves the window alone: closing it still counts the requests.
  assert.equal(a.closeWindow(1000, 1000).get('a')?.rqPerSecond, 4);
  // A router silent for staleMs no longer counts in a snapshot either.
  assert.equal(a.snapshot('a', 3020, 1000)?.routers, 1);
});
