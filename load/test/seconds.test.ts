import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { toCsv } from '../src/csv';
import { SecondsRecorder, formatErrors, percentile, progressLine } from '../src/seconds';

test('percentile: nearest rank', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  const cases: [number[], number, number][] = [
    [[], 50, -1], [[7], 50, 7], [[7], 99, 7], [[1, 2], 50, 1], [[1, 2], 99, 2], [[1, 2, 3], 50, 2],
    [hundred, 50, 50], [hundred, 99, 99], [hundred, 100, 100], [hundred, 0, 1], [[1, 1, 1, 1000], 99, 1000],
  ];
  for (const [xs, p, want] of cases) assert.equal(percentile(xs, p), want, `${p} of ${xs.length}`);
});

test('recorder: per-second rows from outcomes', () => {
  const r = new SecondsRecorder();
  r.offered([3, 1]);
  r.sent(0); r.sent(10); r.sent(900); r.skipped(950); r.sent(1200);
  r.completed(100, 100, 200);
  r.completed(300, 290, 503);
  r.completed(1100, 200, 200); // sent in second 0, counted in the second it ended
  r.completed(1500, 300, 'network');
  r.snapshot(0, 1, { ready: 1, starting: 1, draining: 0 });
  r.snapshot(1, 0, undefined);
  const rows = r.rows();
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0], { second: 0, offered: 3, sent: 3, skipped: 1, completed: 2, ok: 1, errors: { 503: 1 }, p50Ms: 100, p99Ms: 290, inflight: 1, instances: { ready: 1, starting: 1, draining: 0 } });
  assert.deepEqual(rows[1], { second: 1, offered: 1, sent: 1, skipped: 0, completed: 2, ok: 1, errors: { network: 1 }, p50Ms: 200, p99Ms: 300, inflight: 0 });
  assert.equal(progressLine(rows[0]!), 't=1s offered 3/s done 2/s ok 1 errors 503:1 skipped 1 p50 100.0ms p99 290.0ms inflight 1 instances ready 1 starting 1 draining 0');
  assert.equal(progressLine(rows[1]!), 't=2s offered 1/s done 2/s ok 1 errors network:1 p50 200.0ms p99 300.0ms inflight 0 instances unknown');
  assert.equal(toCsv(rows), [
    'second,offered_rps,sent,skipped,achieved_rps,ok,errors,errors_by_status,p50_ms,p99_ms,inflight,instances_ready,instances_starting,instances_draining',
    '0,3,3,1,2,1,1,503:1,100,290,1,1,1,0',
    '1,1,1,0,2,1,1,network:1,200,300,0,,,',
    '',
  ].join('\n'));
});

test('csv: empty seconds, fractional latencies, several error kinds', () => {
  const r = new SecondsRecorder();
  r.snapshot(1, 0, undefined); // second 0 exists with nothing in it
  r.completed(1000, 1.23456, 429);
  r.completed(1001, 2, 'timeout');
  r.completed(1002, 3, 429);
  const csv = toCsv(r.rows()).split('\n');
  assert.equal(csv[1], '0,0,0,0,0,0,0,,,,0,,,');
  assert.equal(csv[2], '1,0,0,0,3,0,3,429:2 timeout:1,2,3,0,,,');
  assert.equal(formatErrors({ timeout: 1, 503: 2, 429: 3 }), '429:3 503:2 timeout:1');
  assert.equal(percentile([1.23456], 50), 1.23456);
});
