import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { FunctionMetrics } from '@faas/contracts';
import { MetricsAggregator, functionStat } from '../src/aggregate';
import { parseDatagram } from '../src/parse';

const lines = (...l: string[]) => parseDatagram(l.join('\n')).metrics;
const C = 'envoy.cluster.fn-';

function agg(defined: string[] = ['a', 'b'], staleMs = 3000, prefix = 'envoy'): MetricsAggregator {
  const a = new MetricsAggregator({ prefix, staleMs });
  a.setDefined(defined);
  return a;
}

const zero = (now: number, windowMs = 1000): FunctionMetrics => ({
  rqActive: 0, rqPendingActive: 0, rqPerSecond: 0, pendingOverflow: 0, noneHealthy: 0,
  latencyMedianMs: -1, latencyP99Ms: -1, routers: 0, windowMs, updatedAt: now,
});

test('functionStat reads fn and stat from Envoy cluster names only', () => {
  const cases: [string, { fn: string; stat: string } | undefined][] = [
    ['envoy.cluster.fn-hello.upstream_rq_active', { fn: 'hello', stat: 'upstream_rq_active' }],
    ['envoy.cluster.fn-a-b.circuit_breakers.default.rq_open', { fn: 'a-b', stat: 'circuit_breakers.default.rq_open' }],
    ['envoy.cluster.xds_cluster.upstream_rq_active', undefined],
    ['envoy.http.ingress_http.downstream_rq_active', undefined],
    ['other.cluster.fn-a.upstream_rq_active', undefined],
    ['envoy.cluster.fn-a', undefined],
    ['envoy.cluster.fn-../x.upstream_rq_active', undefined],
  ];
  for (const [name, want] of cases) assert.deepEqual(functionStat(name, 'envoy.cluster.'), want, name);
});

interface Step { src: string; at: number; text: string[] }
interface Case { name: string; steps: Step[]; closeAt: number; windowMs?: number; defined?: string[]; staleMs?: number; want: Record<string, Partial<FunctionMetrics>> }

const cases: Case[] = [
  {
    name: 'gauges of two routers are summed; a router\'s newer value replaces its own',
    steps: [
      { src: 'r1', at: 100, text: [`${C}a.upstream_rq_active:3|g`, `${C}a.upstream_rq_pending_active:1|g`] },
      { src: 'r2', at: 200, text: [`${C}a.upstream_rq_active:4|g`, `${C}a.upstream_rq_pending_active:2|g`] },
      { src: 'r1', at: 300, text: [`${C}a.upstream_rq_active:5|g`] },
    ],
    closeAt: 1000,
    want: { a: { rqActive: 9, rqPendingActive: 3, routers: 2 }, b: zero(1000) },
  },
  {
    name: 'counters are summed across routers; rate per second of the window',
    steps: [
      { src: 'r1', at: 0, text: [`${C}a.upstream_rq_total:10|c`, `${C}a.upstream_rq_pending_overflow:2|c`, `${C}a.upstream_cx_none_healthy:1|c`] },
      { src: 'r2', at: 0, text: [`${C}a.upstream_rq_total:30|c`, `${C}b.upstream_cx_none_healthy:4|c`] },
    ],
    closeAt: 2000, windowMs: 2000,
    want: { a: { rqPerSecond: 20, pendingOverflow: 2, noneHealthy: 1, routers: 2 }, b: { noneHealthy: 4, routers: 1 } },
  },
  {
    name: 'sample rate scales counters by 1/rate',
    steps: [{ src: 'r1', at: 0, text: [`${C}a.upstream_rq_total:5|c|@0.1`] }],
    closeAt: 1000,
    want: { a: { rqPerSecond: 50 } },
  },
  {
    name: 'signed gauges change the source value and never go below zero',
    steps: [
      { src: 'r1', at: 0, text: [`${C}a.upstream_rq_active:5|g`, `${C}a.upstream_rq_active:-2|g`, `${C}a.upstream_rq_pending_active:+2|g`] },
      { src: 'r1', at: 1, text: [`${C}b.upstream_rq_active:1|g`, `${C}b.upstream_rq_active:-7|g`] },
    ],
    closeAt: 1000,
    want: { a: { rqActive: 3, rqPendingActive: 2 }, b: { rqActive: 0, routers: 1 } },
  },
  {
    name: 'timers give median and p99',
    steps: [{ src: 'r1', at: 0, text: Array.from({ length: 100 }, (_, i) => `${C}a.upstream_rq_time:${i + 1}|ms`) }],
    closeAt: 1000,
    want: { a: { latencyMedianMs: 50, latencyP99Ms: 99 }, b: { latencyMedianMs: -1, latencyP99Ms: -1 } },
  },
  {
    name: 'names of functions that are not defined are ignored',
    steps: [{ src: 'r1', at: 0, text: [`${C}ghost.upstream_rq_active:3|g`, `${C}ghost.upstream_rq_total:3|c`, `${C}a.upstream_rq_active:1|g`] }],
    closeAt: 1000, defined: ['a'],
    want: { a: { rqActive: 1 } },
  },
  {
    name: 'a router silent for staleMs stops counting',
    steps: [
      { src: 'r1', at: 0, text: [`${C}a.upstream_rq_active:5|g`] },
      { src: 'r2', at: 2500, text: [`${C}a.upstream_rq_active:1|g`] },
    ],
    closeAt: 3000, staleMs: 3000,
    want: { a: { rqActive: 1, routers: 1 } },
  },
  {
    name: 'other clusters, other prefixes and non-cluster stats are ignored',
    steps: [{ src: 'r1', at: 0, text: ['envoy.cluster.xds_cluster.upstream_rq_active:9|g', `edge.cluster.fn-a.upstream_rq_active:9|g`, 'envoy.server.uptime:9|g'] }],
    closeAt: 1000,
    want: { a: zero(1000), b: zero(1000) },
  },
];

for (const c of cases) {
  test(`aggregate: ${c.name}`, () => {
    const a = agg(c.defined ?? Object.keys(c.want), c.staleMs);
    for (const s of c.steps) a.ingest(s.src, lines(...s.text), s.at);
    const out = a.closeWindow(c.closeAt, c.windowMs ?? 1000);
    assert.deepEqual([...out.keys()].sort(), Object.keys(c.want).sort());
    for (const [fn, want] of Object.entries(c.want)) {
      const got = out.get(fn);
      assert.ok(got, fn);
      assert.deepEqual(Object.fromEntries(Object.keys(want).map((k) => [k, got[k as keyof FunctionMetrics]])), want, fn);
    }
  });
}

test('counters and timers reset each window; gauges persist while the source reports', () => {
  const a = agg(['a']);
  a.ingest('r1', lines(`${C}a.upstream_rq_total:10|c`, `${C}a.upstream_rq_time:7|ms`, `${C}a.upstream_rq_active:2|g`), 0);
  assert.equal(a.closeWindow(1000, 1000).get('a')?.rqPerSecond, 10);
  const w2 = a.closeWindow(2000, 1000).get('a');
  assert.deepEqual(w2, { ...zero(2000), rqActive: 2, routers: 1 });
  const w3 = a.closeWindow(3000, 1000).get('a'); // r1 silent 3000 ms: stale
  assert.deepEqual(w3, zero(3000));
  assert.equal(a.sourceCount(), 0);
});

test('undefining a function drops its state; redefining starts from zero', () => {
  const a = agg(['a']);
  a.ingest('r1', lines(`${C}a.upstream_rq_active:4|g`, `${C}a.upstream_rq_total:4|c`), 0);
  a.setDefined([]);
  assert.equal(a.closeWindow(1000, 1000).size, 0);
  assert.equal(a.sourceCount(), 0);
  a.setDefined(['a']);
  assert.deepEqual(a.closeWindow(2000, 1000).get('a'), zero(2000));
});

test('custom and empty prefix', () => {
  const a = agg(['a'], 3000, 'edge');
  a.ingest('r1', lines('edge.cluster.fn-a.upstream_rq_active:2|g', 'envoy.cluster.fn-a.upstream_rq_active:7|g'), 0);
  assert.equal(a.closeWindow(1, 1000).get('a')?.rqActive, 2);
  const b = agg(['a'], 3000, '');
  b.ingest('r1', lines('cluster.fn-a.upstream_rq_active:3|g'), 0);
  assert.equal(b.closeWindow(1, 1000).get('a')?.rqActive, 3);
});

test('huge timer values are clamped to an hour (within the histogram\'s 1%)', () => {
  const a = agg(['a']);
  a.ingest('r1', lines(`${C}a.upstream_rq_time:9000000000|ms`, `${C}a.upstream_rq_time:0|ms`), 0);
  const m = a.closeWindow(1000, 1000).get('a');
  assert.ok(m && m.latencyP99Ms >= 3_600_000 && m.latencyP99Ms <= 3_636_000, String(m?.latencyP99Ms));
  assert.equal(m?.latencyMedianMs, 0);
});
