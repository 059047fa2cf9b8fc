import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LoadOptionError, offeredPerSecond, parseDuration, parseRamp, rateAt, sendTimes } from '../src/plan';

test('parseDuration', () => {
  const ok: [string, number][] = [['30s', 30_000], ['500ms', 500], ['2m', 120_000], ['1.5s', 1500], ['7', 7000], ['1h'.replace('1h', '60m'), 3_600_000]];
  for (const [t, ms] of ok) assert.equal(parseDuration(t, 'd'), ms, t);
  for (const t of ['', '0s', '-1s', 'abc', '1h', '61m', '1 s', '1e3s', 's']) assert.throws(() => parseDuration(t, 'd'), LoadOptionError, t);
});

test('parseRamp: segments from:to:duration', () => {
  assert.deepEqual(parseRamp('0:50:30s,50:0:30s'), [{ fromRps: 0, toRps: 50, durationMs: 30_000 }, { fromRps: 50, toRps: 0, durationMs: 30_000 }]);
  assert.deepEqual(parseRamp(' 10:10:1s , '), [{ fromRps: 10, toRps: 10, durationMs: 1000 }]);
  const bad: [string, RegExp][] = [
    ['', /at least one/], ['1:2', /from-rate:to-rate:duration/], ['1:2:3s:4', /from-rate:to-rate:duration/],
    ['a:2:3s', /not a number/], ['-1:2:3s', /not a number/], ['1:20000:1s', /maximum/], ['1:2:0s', /more than 0/],
    ['1:1:40m,1:1:40m', /more than 1h/],
  ];
  for (const [t, re] of bad) assert.throws(() => parseRamp(t), (e: Error) => e instanceof LoadOptionError && re.test(e.message), t);
});

test('rateAt interpolates within segments and is 0 after the end', () => {
  const segs = parseRamp('0:100:10s,100:100:5s,100:0:10s');
  const cases: [number, number][] = [[0, 0], [5000, 50], [9999, 99.99], [10_000, 100], [14_999, 100], [15_000, 100], [20_000, 50], [25_000, 0], [99_000, 0]];
  for (const [t, r] of cases) assert.ok(Math.abs(rateAt(segs, t) - r) < 1e-9, `${t}: ${rateAt(segs, t)}`);
});

test('sendTimes: a flat rate is evenly spaced; a ramp sends its integral; max-requests bounds it', () => {
  const flat = sendTimes(parseRamp('10:10:1s'), 1000);
  assert.equal(flat.length, 10);
  assert.deepEqual(flat.slice(1).map((t, i) => t - (flat[i] as number)), Array(9).fill(100));
  const ramp = sendTimes(parseRamp('0:100:2s,100:0:2s'), 10_000);
  assert.equal(ramp.length, 200); // area under the triangle: 2 * (100 * 2 / 2)
  assert.deepEqual(offeredPerSecond(ramp, 4000), [25, 75, 75, 25]);
  assert.equal(sendTimes(parseRamp('100:100:10s'), 7).length, 7);
  assert.deepEqual(sendTimes(parseRamp('0:0:5s'), 10), []);
  const sorted = [...ramp].sort((a, b) => a - b);
  assert.deepEqual(ramp, sorted);
});

test('offeredPerSecond counts send times per whole second', () => {
  const cases: [number[], number, number[]][] = [
    [[], 3000, [0, 0, 0]], [[0, 999, 1000, 2999], 3000, [2, 1, 1]], [[0, 500], 1500, [2, 0]], [[5000], 1000, [0]],
  ];
  for (const [times, ms, want] of cases) assert.deepEqual(offeredPerSecond(times, ms), want);
});
