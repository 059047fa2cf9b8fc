import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { Debouncer } from '../src/debounce';

/** Step by 1 ms: mock.timers.tick(n) runs due callbacks with Date already at the end of n. */
const advance = (ms: number) => {
  for (let i = 0; i < ms; i += 1) mock.timers.tick(1);
};

describe('Debouncer (mock timers)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  // [case, events as [at ms, item], ticks to advance to, expected fires as [at ms, items]]
  const table: [string, [number, string][], number, [number, string[]][]][] = [
    ['one event fires after the delay', [[0, 'a']], 1000, [[300, ['a']]]],
    ['a burst coalesces into one call with every item once', [[0, 'a'], [100, 'b'], [200, 'a'], [250, 'c']], 1000, [[550, ['a', 'b', 'c']]]],
    ['two bursts apart fire twice', [[0, 'a'], [100, 'a'], [1000, 'b']], 2000, [[400, ['a']], [1300, ['b']]]],
    ['a stream that never pauses still fires at the max wait', Array.from({ length: 20 }, (_, i) => [i * 200, `f${i}`] as [number, string]), 1500,
      [[1000, ['f0', 'f1', 'f2', 'f3', 'f4']]]],
    ['nothing happens, nothing fires', [], 5000, []],
  ];
  for (const [name, events, until, want] of table) {
    it(name, () => {
      const fired: [number, string[]][] = [];
      const d = new Debouncer<string>(300, 1000, (items) => fired.push([Date.now(), items]));
      let t = 0;
      for (const [at, item] of events) {
        if (at > until) break;
        advance(at - t);
        t = at;
        d.push(item);
      }
      advance(until - t);
      assert.deepEqual(fired, want);
    });
  }

  it('cancel drops what is pending', () => {
    const fired: string[][] = [];
    const d = new Debouncer<string>(300, 1000, (items) => fired.push(items));
    d.push('a');
    d.cancel();
    mock.timers.tick(5000);
    assert.deepEqual(fired, []);
  });
});
