import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FunctionDefinition, definitionWithDefaults } from '@faas/contracts';
import { diffDefinitions, isEmptyDiff, sameVersion, summarizeDiff } from '../src/definition-diff';

const def = (name: string, version = '1', contentHash = `h-${name}`): FunctionDefinition =>
  ({ ...definitionWithDefaults(name, `/code/${name}`), version, contentHash });

describe('diffDefinitions', () => {
  // [case, current, next, expected summary + unchanged]
  const table: [string, FunctionDefinition[], FunctionDefinition[], { added: string[]; removed: string[]; changed: string[]; unchanged: string[] }][] = [
    ['nothing to nothing', [], [], { added: [], removed: [], changed: [], unchanged: [] }],
    ['first load adds all', [], [def('b'), def('a')], { added: ['a', 'b'], removed: [], changed: [], unchanged: [] }],
    ['same set, same content', [def('a'), def('b')], [def('b'), def('a')], { added: [], removed: [], changed: [], unchanged: ['a', 'b'] }],
    ['one added', [def('a')], [def('a'), def('c')], { added: ['c'], removed: [], changed: [], unchanged: ['a'] }],
    ['one removed', [def('a'), def('c')], [def('a')], { added: [], removed: ['c'], changed: [], unchanged: ['a'] }],
    ['all removed', [def('a'), def('c')], [], { added: [], removed: ['a', 'c'], changed: [], unchanged: [] }],
    ['declared version bumped', [def('a', '1')], [def('a', '2')], { added: [], removed: [], changed: ['a'], unchanged: [] }],
    ['code changed under the same declared version', [def('a', '1', 'x')], [def('a', '1', 'y')], { added: [], removed: [], changed: ['a'], unchanged: [] }],
    ['renamed: one removed, one added', [def('a')], [def('b')], { added: ['b'], removed: ['a'], changed: [], unchanged: [] }],
    ['mixed', [def('a'), def('b'), def('c')], [def('a', '2'), def('c'), def('d')], { added: ['d'], removed: ['b'], changed: ['a'], unchanged: ['c'] }],
  ];
  for (const [name, current, next, want] of table) {
    it(name, () => {
      const d = diffDefinitions(current, next);
      assert.deepEqual(
        { added: d.added.map((x) => x.name), removed: d.removed, changed: d.changed.map((c) => c.to.name), unchanged: d.unchanged },
        want,
      );
      assert.equal(isEmptyDiff(d), want.added.length + want.removed.length + want.changed.length === 0);
    });
  }

  it('a change carries both definitions; the summary names versions', () => {
    const d = diffDefinitions([def('a', '1')], [def('a', '2')]);
    assert.equal(d.changed[0]?.from.version, '1');
    assert.equal(d.changed[0]?.to.version, '2');
    assert.deepEqual(summarizeDiff(d), { added: [], removed: [], changed: [{ fn: 'a', from: '1', to: '2' }] });
  });

  it('sameVersion needs both the version and the content hash', () => {
    assert.equal(sameVersion(def('a', '1', 'x'), def('a', '1', 'x')), true);
    assert.equal(sameVersion(def('a', '1', 'x'), def('a', '2', 'x')), false);
    assert.equal(sameVersion(def('a', '1', 'x'), def('a', '1', 'y')), false);
  });

  it('settings changed through definitionWithDefaults give another content hash', () => {
    const a = definitionWithDefaults('a', '/code/a');
    const b = definitionWithDefaults('a', '/code/a', { memoryMb: 256 });
    assert.equal(diffDefinitions([a], [b]).changed.length, 1);
    assert.equal(diffDefinitions([a], [definitionWithDefaults('a', '/code/a')]).changed.length, 0);
  });
});
