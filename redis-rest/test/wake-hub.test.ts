/** WakeHub on node:test's mock timers: ticks are counted per interval, never by sleeping. */
import { beforeEach, afterEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@faas/contracts';
import type { TickState } from '../src/store';
import { WakeHub, type WakeOutcome } from '../src/wake-hub';

const quiet = createLogger('test', {}, () => undefined);
/** Lets the tick promises settle (setImmediate is not mocked). */
const flush = () => new Promise<void>((r) => setImmediate(r));

beforeEach(() => mock.timers.enable({ apis: ['setInterval', 'setTimeout'] }));
afterEach(() => mock.timers.reset());

test('WakeHub coalesces wakes per function and re-publishes once per interval while someone waits', async () => {
  const ticks: string[] = [];
  const waiting: number[] = [];
  const hub = new WakeHub({ tick: async (fn, _id, n) => { ticks.push(fn); waiting.push(n); return 'cold' as TickState; }, intervalMs: 40, logger: quiet });
  const outcomes: WakeOutcome[] = [];
  for (let i = 0; i < 10; i++) {
    hub.register({ fn: 'a', requestId: `r${i}`, settle: (o) => outcomes.push(o) });
    hub.activate('a');
  }
  await flush();
  assert.equal(ticks.length, 1, 'ten waiters, one publish');
  mock.timers.tick(39);
  assert.equal(ticks.length, 1, 'nothing before the interval');
  mock.timers.tick(1);
  assert.equal(ticks.length, 2);
  assert.equal(waiting[1], 10, 'a re-published wake says how many requests wait');
  mock.timers.tick(80);
  assert.equal(ticks.length, 4, 're-published every interval');
  hub.onState('a', 'starting');
  assert.equal(outcomes.length, 0);
  hub.onState('a', 'warm');
  assert.equal(outcomes.length, 10);
  assert.ok(outcomes.every((o) => o === 'warm'));
  mock.timers.tick(400);
  assert.equal(ticks.length, 4, 'no publish once nobody waits');
});

test('WakeHub: removed waiters stop the ticker; a tick seeing warm or gone settles', async () => {
  let state: TickState = 'cold';
  const ticks: string[] = [];
  const hub = new WakeHub({ tick: async (fn) => { ticks.push(fn); return state; }, intervalMs: 30, logger: quiet });
  const remove = hub.register({ fn: 'b', requestId: 'x', settle: () => undefined });
  hub.activate('b');
  remove();
  mock.timers.tick(300);
  assert.equal(ticks.length, 1);
  assert.equal(hub.waiting('b'), 0);

  const got: WakeOutcome[] = [];
  hub.register({ fn: 'c', requestId: 'y', settle: (o) => got.push(o) });
  state = 'gone';
  hub.activate('c');
  await flush();
  assert.deepEqual(got, ['gone']);
  hub.register({ fn: 'd', requestId: 'z', settle: (o) => got.push(o) });
  state = 'warm';
  hub.activate('d');
  await flush();
  assert.deepEqual(got, ['gone', 'warm']);
});
