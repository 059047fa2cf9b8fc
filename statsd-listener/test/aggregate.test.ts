import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { MetricsAggregator, functionStat } from '../src/aggregate';
import { parseDatagram } from '../src/parse';

const lines = (...l: string[]) => parseDatagram(l.join('\n')).metrics;

test('functionStat reads fn and stat from Envoy cluster names only', () => {
  assert.deepEqual(functionStat('envoy.cluster.fn-hello.upstream_rq_active', 'envoy.cluster.'), { fn: 'hello', stat: 'upstream_rq_active' });
  assert.deepEqual(functionStat('envoy.cluster.fn-a-b.circuit_breakers.default.rq_open', 'envoy.cluster.'), { fn: 'a-b', stat: 'circuit_breakers.default.rq_open' });
  assert.equal(functionStat('envoy.cluster.xds_cluster.upstream_rq_active', 'envoy.cluster.'), undefined);
  assert.equal(functionStat('envoy.http.ingress_http.downstream_rq_active', 'envoy.cluster.'), undefined);
  assert.equal(functionStat('other.cluster.fn-a.upstream_rq_active', 'envoy.cluster.'), undefined);
});

test('gauges of two routers are summed, not last-write-wins', () => {
  const agg = new MetricsAggregator({ prefix: 'envoy' });
  agg.ingest('10.0.0.1:5000', lines('envoy.cluster.fn-a.upstream_rq_active:3|g', 'envoy.cluster.fn-a.upstream_rq_pending_active:1|g'));
  agg.ingest('10.0.0.2:5000', lines('envoy.cluster.fn-a.upstream_rq_active:4|g', 'envoy.cluster.fn-a.upstream_rq_pending_active:2|g'));
  agg.ingest('10.0.0.1:5000', lines('envoy.cluster.fn-a.upstream_rq_active:5|g')); // newer value from router 1 replaces its own
  const w = agg.closeWindow(1000, 1000);
  assert.deepEqual(w.get('a'), { rqActive: 9, rqPendingActive: 3, rqPerSecond: 0, pendingOverflow: 0, noneHealthy: 0, latencyMedianMs: -1, latencyP99Ms: -1, routers: 2, windowMs: 1000, updatedAt: 1000 });
});

test('counters are deltas summed per window and reset after it', () => {
  const agg = new MetricsAggregator({ prefix: 'envoy' });
  agg.ingest('r1:1', lines('envoy.cluster.fn-a.upstream_rq_total:10|c', 'envoy.cluster.fn-a.upstream_rq_pending_overflow:2|c', 'envoy.cluster.fn-a.upstream_cx_none_healthy:1|c'));
  agg.ingest('r2:1', lines('envoy.cluster.fn-a.upstream_rq_total:30|c', 'envoy.cluster.fn-b.upstream_cx_none_healthy:4|c'));
  const w1 = agg.closeWindow(2000, 2000);
  assert.equal(w1.get('a')?.rqPerSecond, 20);
  assert.equal(w1.get('a')?.pendingOverflow, 2);
  assert.equal(w1.get('a')?.noneHealthy, 1);
  assert.equal(w1.get('b')?.noneHealthy, 4);
  assert.equal(w1.get('b')?.routers, 1);
  agg.ingest('r1:1', lines('envoy.cluster.fn-a.upstream_rq_total:0|c'));
  const w2 = agg.closeWindow(4000, 2000);
  assert.equal(w2.get('a')?.rqPerSecond, 0);
  assert.equal(w2.get('a')?.pendingOverflow, 0);
  assert.equal(w2.get('a')?.routers, 1);
  assert.equal(w2.has('b'), false);
});

test('signed gauges change the source value', () => {
  const agg = new MetricsAggregator({ prefix: 'envoy' });
  agg.ingest('r1:1', lines('envoy.cluster.fn-a.upstream_rq_active:5|g', 'envoy.cluster.fn-a.upstream_rq_active:-2|g'));
  assert.equal(agg.closeWindow(1, 1000).get('a')?.rqActive, 3);
});

test('a source that stops reporting is dropped from gauge sums after staleWindows', () => {
  const agg = new MetricsAggregator({ prefix: 'envoy', staleWindows: 2 });
  agg.ingest('r1:1', lines('envoy.cluster.fn-a.upstream_rq_active:5|g'));
  agg.ingest('r2:1', lines('envoy.cluster.fn-a.upstream_rq_active:1|g'));
  assert.equal(agg.closeWindow(1, 1000).get('a')?.rqActive, 6); // window 0
  agg.ingest('r2:1', lines('envoy.cluster.fn-a.upstream_rq_active:1|g'));
  const w1 = agg.closeWindow(2, 1000); // window 1: r1 silent once, still counted
  assert.equal(w1.get('a')?.rqActive, 6);
  assert.equal(w1.get('a')?.routers, 1);
  agg.ingest('r2:1', lines('envoy.cluster.fn-a.upstream_rq_active:1|g'));
  assert.equal(agg.closeWindow(3, 1000).get('a')?.rqActive, 1); // window 2: r1 silent twice -> dropped
  assert.equal(agg.sourceCount(), 1);
  agg.closeWindow(4, 1000);
  assert.equal(agg.closeWindow(5, 1000).size, 0); // r2 gone too
  assert.equal(agg.sourceCount(), 0);
});

test('custom prefix', () => {
  const agg = new MetricsAggregator({ prefix: 'edge' });
  agg.ingest('r1:1', lines('edge.cluster.fn-a.upstream_rq_active:2|g', 'envoy.cluster.fn-a.upstream_rq_active:7|g'));
  assert.equal(agg.closeWindow(1, 1000).get('a')?.rqActive, 2);
});
