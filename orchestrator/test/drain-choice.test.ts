/** Table tests of chooseDrainVictims: which instances leave when fewer are wanted. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseDrainVictims, type DrainCandidate, type InstancePhase } from '../src/autoscaler/drain-choice';

const T0 = 1_700_000_000_000;
const inst = (id: string, phase: InstancePhase, inflight = 0, idleMs = 0, ageMs = 60_000): DrainCandidate => ({
  id, phase, inflight, lastActivityAt: T0 - idleMs, startedAt: T0 - ageMs,
});
const ids = (xs: readonly DrainCandidate[]) => xs.map((x) => x.id);

describe('chooseDrainVictims', () => {
  const cases: { name: string; instances: DrainCandidate[]; desired: number; drained: string[] }[] = [
    { name: 'nothing when desired covers them', instances: [inst('a', 'ready'), inst('b', 'ready')], desired: 2, drained: [] },
    { name: 'nothing when desired is above', instances: [inst('a', 'ready')], desired: 3, drained: [] },
    { name: 'fewest in flight first', instances: [inst('a', 'ready', 3), inst('b', 'ready', 0), inst('c', 'ready', 1)], desired: 1, drained: ['b', 'c'] },
    { name: 'then the one idle longest', instances: [inst('a', 'ready', 0, 1_000), inst('b', 'ready', 0, 9_000), inst('c', 'ready', 0, 5_000)], desired: 2, drained: ['b'] },
    { name: 'then the youngest', instances: [inst('old', 'ready', 0, 0, 90_000), inst('young', 'ready', 0, 0, 5_000)], desired: 1, drained: ['young'] },
    { name: 'then by id, so the choice is deterministic', instances: [inst('b', 'ready'), inst('a', 'ready')], desired: 1, drained: ['a'] },
    { name: 'in-flight outranks idleness', instances: [inst('busy-idle', 'ready', 1, 50_000), inst('free', 'ready', 0, 0)], desired: 1, drained: ['free'] },
    { name: 'never a starting or draining one', instances: [inst('s', 'starting'), inst('d', 'draining'), inst('r', 'ready', 5)], desired: 0, drained: ['r'] },
    { name: 'to zero: every ready one, least busy first', instances: [inst('a', 'ready', 2), inst('b', 'ready', 0)], desired: 0, drained: ['b', 'a'] },
    { name: 'ready capacity is not traded for starting capacity', instances: [inst('r1', 'ready'), inst('r2', 'ready', 1), inst('s1', 'starting'), inst('s2', 'starting')], desired: 2, drained: [] },
    { name: 'with starting ones, only ready beyond desired', instances: [inst('r1', 'ready', 1), inst('r2', 'ready'), inst('r3', 'ready', 2), inst('s1', 'starting')], desired: 2, drained: ['r2'] },
    { name: 'a negative or fractional desired is read as whole and non-negative', instances: [inst('a', 'ready'), inst('b', 'ready', 1)], desired: -1, drained: ['a', 'b'] },
    { name: 'no instances', instances: [], desired: 0, drained: [] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(ids(chooseDrainVictims(c.instances, c.desired)), c.drained));
  }
  it('keeps the caller\'s own instance type and does not reorder its array', () => {
    const mine = [{ ...inst('a', 'ready', 1), container: 'c-a' }, { ...inst('b', 'ready'), container: 'c-b' }];
    const out = chooseDrainVictims(mine, 1);
    assert.equal(out[0]?.container, 'c-b');
    assert.deepEqual(ids(mine), ['a', 'b']);
  });
});
