import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DefinitionError, type FunctionDefinition, createLogger, definitionWithDefaults, loadDefinitionFile } from '@faas/contracts';
import { DefinitionReloader, type ReloadDeps } from '../src/definition-reload';

const def = (name: string, version = '1'): FunctionDefinition => ({ ...definitionWithDefaults(name, `/c/${name}`), version });
const bad = new DefinitionError([{ file: 'defs.yml', line: 7, function: 'a', field: 'concurrency', message: 'must be at least 1' }]);

function harness(loads: (FunctionDefinition[] | Error)[], initial = [def('a')]) {
  const applied: string[][] = [];
  const lines: Record<string, unknown>[] = [];
  let clock = 1000;
  let release: (() => void) | undefined;
  let holdApply = false;
  const deps: ReloadDeps = {
    file: 'defs.yml',
    load: () => {
      const next = loads.shift();
      if (!next) throw new Error('test: no more loads');
      if (next instanceof Error) throw next;
      return next;
    },
    apply: async (defs) => {
      applied.push(defs.map((d) => `${d.name}@${d.version}`));
      if (holdApply) await new Promise<void>((r) => (release = r));
    },
    log: createLogger('test', {}, (l) => lines.push(JSON.parse(l) as Record<string, unknown>)),
    now: () => (clock += 1000),
  };
  const r = new DefinitionReloader(deps, initial, 500);
  return { r, applied, lines, hold: () => (holdApply = true), release: () => release?.() };
}

describe('DefinitionReloader', () => {
  // [case, loads in order, triggers (force?), outcomes, applies]
  const table: [string, (FunctionDefinition[] | Error)[], boolean[], string[], string[][]][] = [
    ['a valid change is applied', [[def('a'), def('b')]], [false], ['applied'], [['a@1', 'b@1']]],
    ['an invalid file is rejected and never applied', [bad], [false], ['rejected'], []],
    ['an unchanged file is not applied again', [[def('a')]], [false], ['unchanged'], []],
    ['SIGHUP applies even when unchanged', [[def('a')]], [true], ['applied'], [['a@1']]],
    ['a fix after a rejection is applied', [bad, [def('a', '2')]], [false, false], ['rejected', 'applied'], [['a@2']]],
    ['a rejection after a change keeps the change serving', [[def('a', '2')], bad, [def('a', '2')]], [false, false, false], ['applied', 'rejected', 'unchanged'], [['a@2']]],
  ];
  for (const [name, loads, forces, outcomes, applies] of table) {
    it(name, async () => {
      const h = harness(loads);
      const got: string[] = [];
      for (const force of forces) got.push(await h.r.request({ reason: 'test', force }));
      assert.deepEqual(got, outcomes);
      assert.deepEqual(h.applied, applies);
    });
  }

  it('status: a rejection records the issues with their line, lastApplied stays', async () => {
    const h = harness([bad]);
    const before = h.r.status();
    assert.deepEqual(before, { file: 'defs.yml', lastApplied: { at: 500, ok: true }, lastLoad: { at: 500, ok: true } });
    await h.r.request({ reason: 'watch' });
    const s = h.r.status();
    assert.deepEqual(s.lastApplied, { at: 500, ok: true });
    assert.equal(s.lastLoad?.ok, false);
    assert.deepEqual(s.lastLoad?.issues, bad.issues);
    assert.deepEqual(h.r.definitions().map((d) => d.name), ['a']);
    const line = h.lines.find((l) => l.event === 'definitions_rejected');
    assert.ok(line, 'one log line for the rejection');
    assert.equal(line.level, 'error');
    assert.deepEqual(line.issues, bad.issues);
    assert.equal(line.message, 'defs.yml:7: function "a": field "concurrency": must be at least 1');
    assert.equal(h.lines.filter((l) => l.event === 'definitions_rejected').length, 1);
  });

  it('changes while an apply runs coalesce into one more reload', async () => {
    const h = harness([[def('a', '2')], [def('a', '3')]]);
    h.hold();
    const first = h.r.request({ reason: 'w1' });
    // Let the first reload reach apply.
    while (h.applied.length === 0) await new Promise((r) => setImmediate(r));
    const second = h.r.request({ reason: 'w2', paths: ['x'] });
    const third = h.r.request({ reason: 'w3', paths: ['y'] });
    h.release();
    // The second reload also holds in apply: release it once it got there.
    while (h.applied.length < 2) await new Promise((r) => setImmediate(r));
    h.release();
    assert.deepEqual(await Promise.all([first, second, third]), ['applied', 'applied', 'applied']);
    assert.deepEqual(h.applied, [['a@2'], ['a@3']]);
    const changed = h.lines.filter((l) => l.event === 'definitions_changed');
    assert.equal(changed.at(-1)?.reason, 'w2+w3');
    assert.deepEqual(changed.at(-1)?.paths, ['x', 'y']);
  });

  it('with the real loader: the status names the line of an invalid edit', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reload-'));
    try {
      fs.mkdirSync(path.join(dir, 'a'));
      fs.writeFileSync(path.join(dir, 'a', 'index.js'), '');
      const file = path.join(dir, 'defs.yml');
      fs.writeFileSync(file, 'functions:\n  a:\n    runtime: node\n    code: a\n');
      const applied: FunctionDefinition[][] = [];
      const r = new DefinitionReloader({
        file, load: loadDefinitionFile, apply: async (d) => void applied.push(d), log: createLogger('test', {}, () => undefined), now: () => 1,
      }, loadDefinitionFile(file), 0);
      fs.writeFileSync(file, 'functions:\n  a:\n    runtime: node\n    code: a\n    memory_mb: lots\n');
      assert.equal(await r.request({ reason: 'test' }), 'rejected');
      assert.deepEqual(r.status().lastLoad?.issues?.map((i) => [i.line, i.function, i.field]), [[5, 'a', 'memory_mb']]);
      fs.writeFileSync(path.join(dir, 'a', 'index.js'), 'changed');
      fs.writeFileSync(file, 'functions:\n  a:\n    runtime: node\n    code: a\n');
      assert.equal(await r.request({ reason: 'test' }), 'applied', 'a code change is a change');
      assert.equal(applied.length, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
