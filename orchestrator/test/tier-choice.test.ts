/** Warm-tier decisions (autoscaler/tier-choice.ts): table tests with an injected clock. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PausedEntry, afterDrain, chooseUnpause, pausedToEvict } from '../src/autoscaler/tier-choice';
import { defaultPausedBudgetMb } from '../src/warm-pool';

const MIN = 60_000;
const e = (id: string, pausedAt: number, over: Partial<PausedEntry> = {}): PausedEntry => ({
  key: `f/${id}`, fn: 'f', instanceId: id, tier: 'paused', memoryMb: 100, pausedAt, ttlMs: 10 * MIN, version: '1', currentVersion: '1', ...over,
});

describe('pausedToEvict', () => {
  const cases: Array<{ name: string; entries: PausedEntry[]; budget: number; now: number; want: string[] }> = [
    { name: 'nothing due', entries: [e('a', 0), e('b', 1)], budget: 1000, now: 5 * MIN, want: [] },
    { name: 'TTL reached (inclusive)', entries: [e('a', 0), e('b', 1)], budget: 1000, now: 10 * MIN, want: ['f/a:ttl_expired'] },
    { name: 'stale version goes whatever its age', entries: [e('a', 5, { currentVersion: '2' })], budget: 1000, now: 6, want: ['f/a:stale_version'] },
    { name: 'over budget: least recently used first, until it fits', entries: [e('new', 30), e('old', 10), e('mid', 20)], budget: 150, now: 40, want: ['f/old:over_budget', 'f/mid:over_budget'] },
    { name: 'expired ones free budget first', entries: [e('x', 0, { ttlMs: 10 }), e('a', 20), e('b', 30)], budget: 200, now: 40, want: ['f/x:ttl_expired'] },
    { name: 'zero budget evicts all', entries: [e('a', 1), e('b', 2)], budget: 0, now: 3, want: ['f/a:over_budget', 'f/b:over_budget'] },
    { name: 'across functions by size', entries: [e('big', 1, { key: 'g/big', fn: 'g', memoryMb: 300 }), e('s', 2)], budget: 350, now: 3, want: ['g/big:over_budget'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(pausedToEvict(c.entries, c.budget, c.now).map((v) => `${v.key}:${v.reason}`), c.want);
    });
  }
});

describe('afterDrain', () => {
  const base = { warm: 'paused' as const, drained: true, memoryMb: 100, budgetMb: 250, paused: [] as PausedEntry[], now: 100, created: 0, maxInstances: 2 };
  it('pauses a cleanly drained instance of a paused-tier function', () => {
    assert.deepEqual(afterDrain(base), { action: 'pause', evict: [] });
  });
  it('removes when the function has no paused tier, the drain hit its deadline, or it cannot fit at all', () => {
    assert.equal(afterDrain({ ...base, warm: 'none' }).action, 'remove');

    assert.equal(afterDrain({ ...base, drained: false }).action, 'remove');
    assert.equal(afterDrain({ ...base, memoryMb: 300 }).action, 'remove');
  });
  it('warm: created removes it and pre-creates a container in its place, up to max_instances', () => {
    assert.deepEqual(afterDrain({ ...base, warm: 'created' }), { action: 'remove', reason: 'warm: created', precreate: true });
    assert.deepEqual(afterDrain({ ...base, warm: 'created', created: 2 }), { action: 'remove', reason: 'warm: created', precreate: false });
    assert.deepEqual(afterDrain({ ...base, warm: 'none' }), { action: 'remove', reason: 'warm: none', precreate: false });
  });
  it('makes room by evicting the least recently used paused instances', () => {
    const d = afterDrain({ ...base, paused: [e('old', 10), e('new', 20)] });
    assert.deepEqual(d, { action: 'pause', evict: [{ key: 'f/old', reason: 'over_budget' }] });
  });
});

describe('chooseUnpause', () => {
  it('most recently paused first, current version only, as many as wanted', () => {
    const entries = [e('a', 10), e('b', 30), e('c', 20), e('stale', 40, { version: '0' })];
    assert.deepEqual(chooseUnpause(entries, 2).map((x) => x.instanceId), ['b', 'c']);
    assert.deepEqual(chooseUnpause(entries, 9).map((x) => x.instanceId), ['b', 'c', 'a']);
    assert.deepEqual(chooseUnpause(entries, 0), []);
    assert.deepEqual(chooseUnpause([e('stale', 1, { version: '0' })], 1), []);
    assert.deepEqual(chooseUnpause([e('made', 50, { tier: 'created', memoryMb: 0 }), e('frozen', 10)], 2).map((x) => x.instanceId), ['frozen', 'made'], 'paused before created');
  });
});

describe('defaultPausedBudgetMb', () => {
  it('is a quarter of the machine memory', () => {
    assert.equal(defaultPausedBudgetMb(8 * 1024 * 1024 * 1024), 2048);
  });
});
