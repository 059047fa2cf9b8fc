/** Restart back-off: doubling from 100 ms to 5 s, reset after 10 s up, crash loop at 5 exits in 60 s. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RESTART_POLICY, type RestartState, decideRestart, initialRestartState, restartStarted } from '../src/backoff';

/** Exits at the given times, each restart starting after its delay. */
function run(exitTimes: number[]): { attempt: number; delayMs: number; crashLoop: boolean }[] {
  let state: RestartState = initialRestartState(0);
  return exitTimes.map((t) => {
    const d = decideRestart(state, t);
    state = restartStarted(d.state, t + d.delayMs);
    return { attempt: d.attempt, delayMs: d.delayMs, crashLoop: d.crashLoop };
  });
}

describe('decideRestart', () => {
  const table: { name: string; exits: number[]; want: [number, number, boolean][] }[] = [
    { name: 'first crash soon after start', exits: [1_000], want: [[1, 100, false]] },
    { name: 'crashes in quick succession double the delay', exits: [100, 300, 700], want: [[1, 100, false], [2, 200, false], [3, 400, false]] },
    { name: 'up 10 s or more resets the back-off', exits: [100, 300, 20_000], want: [[1, 100, false], [2, 200, false], [1, 100, false]] },
    { name: 'fifth exit within 60 s is a crash loop at the max delay', exits: [100, 300, 700, 1_500, 3_100], want: [[1, 100, false], [2, 200, false], [3, 400, false], [4, 800, false], [5, 5_000, true]] },
    { name: 'exits spread over more than 60 s are not a loop', exits: [11_000, 22_000, 33_000, 44_000, 75_000], want: [[1, 100, false], [1, 100, false], [1, 100, false], [1, 100, false], [1, 100, false]] },
  ];
  for (const row of table) {
    it(row.name, () => {
      assert.deepEqual(run(row.exits).map((d) => [d.attempt, d.delayMs, d.crashLoop]), row.want);
    });
  }

  it('never waits longer than maxMs however many attempts', () => {
    let state = initialRestartState(0);
    let last = 0;
    for (let i = 0; i < 100; i++) {
      const d = decideRestart(state, i);
      state = d.state;
      last = d.delayMs;
      assert.ok(d.delayMs <= DEFAULT_RESTART_POLICY.maxMs);
    }
    assert.equal(last, DEFAULT_RESTART_POLICY.maxMs);
  });

  it('keeps only exits inside the window', () => {
    const d = decideRestart({ attempt: 3, startedAt: 100_000, recentExits: [1_000, 50_000, 90_000] }, 100_500);
    assert.deepEqual(d.state.recentExits, [50_000, 90_000, 100_500]);
  });
});
