import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@faas/contracts';
import type { TickState } from '../src/store';
import { WakeHub, type WakeOutcome } from '../src/wake-hub';

const quiet = createLogger('test', {}, () => undefined);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('WakeHub coalesces wakes per function and re-publishes while someone waits', async () => {
  const ticks: string[] = [];
  let state: TickState = 'cold';
  const hub = new WakeHub({ tick: async (fn) => { ticks.push(fn); return state; }, intervalMs: 40, logger: quiet });
  const outcomes: WakeOutcome[] = [];
  for (let i = 0; i < 10; i++) {
    hub.register({ fn: 'a', requestId: `r${i}`, settle: (o) => outcomes.push(o) });
    hub.activate('a');
  }
  await sleep(10);
  assert.equal(ticks.length, 1, 'ten waiters, one publish');
  await sleep(100);
  assert.ok(ticks.length >= 2 && ticks.length <= 5, `re-published every interval, got ${ticks.length}`);
  hub.onState('a', 'starting');
  assert.equal(outcomes.length, 0);
  hub.onState('a', 'warm');
  assert.equal(outcomes.length, 10);
  assert.ok(outcomes.every((o) => o === 'warm'));
  const n = ticks.length;
  await sleep(100);
  assert.equal(ticks.length, n, 'no publish once nobody waits');
  state = 'cold';
});

test('WakeHub: removed waiters stop the ticker; a tick seeing warm or gone settles', async () => {
  let state: TickState = 'cold';
  const ticks: string[] = [];
  const hub = new WakeHub({ tick: async (fn) => { ticks.push(fn); return state; }, intervalMs: 30, logger: quiet });
  const remove = hub.register({ fn: 'b', requestId: 'x', settle: () => undefined });
  hub.activate('b');
  remove();
  await sleep(80);
  assert.equal(ticks.length, 1);
  assert.equal(hub.waiting('b'), 0);

  const got: WakeOutcome[] = [];
  hub.register({ fn: 'c', requestId: 'y', settle: (o) => got.push(o) });
  state = 'gone';
  hub.activate('c');
  await sleep(10);
  assert.deepEqual(got, ['gone']);
  hub.register({ fn: 'd', requestId: 'z', settle: (o) => got.push(o) });
  state = 'warm';
  hub.activate('d');
  await sleep(10);
  assert.deepEqual(got, ['gone', 'warm']);
});
