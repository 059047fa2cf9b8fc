/** The reload path as main.ts wires it, against a fake orchestrator: file edits reach apply, the status follows. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FunctionDefinition, type StatusResponse, StatusResponseSchema, createLogger, loadDefinitionFile } from '@faas/contracts';
import { LiveDefinitions } from '../src/live-definitions';

describe('LiveDefinitions', () => {
  let dir: string;
  let file: string;
  let live: LiveDefinitions;
  const applied: FunctionDefinition[][] = [];
  const waiters: (() => void)[] = [];
  const fnDef = (name: string, extra = '') => `  ${name}:\n    runtime: node\n    code: ${name}\n${extra}`;
  const status = async (): Promise<StatusResponse> => StatusResponseSchema.parse(await (await fetch(`http://127.0.0.1:${live.statusPort}/v1/status`)).json());
  /** Bounded wait for the next apply. */
  const nextApply = (n: number) => new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no apply #${n} within 15 s: ${applied.length}`)), 15_000);
    const check = () => {
      if (applied.length >= n) {
        clearTimeout(t);
        resolve();
      } else waiters.push(check);
    };
    check();
  });

  before(async () => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'live-')));
    for (const n of ['a', 'b']) {
      fs.mkdirSync(path.join(dir, n));
      fs.writeFileSync(path.join(dir, n, 'index.js'), 'exports.handler = async () => 1;\n');
    }
    file = path.join(dir, 'defs.yml');
    fs.writeFileSync(file, `functions:\n${fnDef('a')}`);
    const initial = loadDefinitionFile(file);
    live = await LiveDefinitions.listen({
      file, initial, statusHost: '127.0.0.1', statusPort: 0, watchDebounceMs: 50, watchPollMs: 0, internalToken: 't',
      log: createLogger('test', {}, () => undefined),
    });
    const before = await status();
    assert.equal(before.lastApplied, null, 'before attach nothing is applied yet');
    assert.equal(before.lastLoad?.ok, true);
    let current = initial;
    await live.attach({
      apply: async (defs) => {
        current = defs;
        applied.push(defs);
        for (const w of waiters.splice(0)) w();
      },
      functionStatus: () => current.map((d) => ({ name: d.name, activeVersion: d.version, versions: [] })),
    });
  });
  after(async () => {
    await live?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an added function reaches apply and the status', async () => {
    fs.writeFileSync(file, `functions:\n${fnDef('a')}${fnDef('b')}`);
    await nextApply(1);
    assert.deepEqual(applied[0]?.map((d) => d.name), ['a', 'b']);
    assert.deepEqual((await status()).functions.map((f) => f.name), ['a', 'b']);
  });

  it('an invalid save is recorded with its line and not applied; the fix is', async () => {
    fs.writeFileSync(file, `functions:\n${fnDef('a')}${fnDef('b', '    timeout: forever\n')}`);
    let s: StatusResponse;
    for (let i = 0; ; i += 1) {
      s = await status();
      if (s.lastLoad?.ok === false) break;
      assert.ok(i < 300, 'the rejection shows within 15 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(s.lastLoad?.issues?.map((i) => [i.line, i.function, i.field]), [[8, 'b', 'timeout']]);
    fs.writeFileSync(path.join(dir, 'b', 'index.js'), 'exports.handler = async () => 2;\n');
    fs.writeFileSync(file, `functions:\n${fnDef('a')}${fnDef('b')}`);
    await nextApply(2);
    assert.equal(applied.length, 2, 'the rejected save was never applied');
    assert.notEqual(applied[1]?.[1]?.version, applied[0]?.[1]?.version, 'b\'s code changed: another version');
    assert.equal((await status()).lastLoad?.ok, true);
  });

  it('a code edit of a function alone is a change', async () => {
    fs.writeFileSync(path.join(dir, 'a', 'index.js'), 'exports.handler = async () => 3;\n');
    await nextApply(3);
    assert.notEqual(applied[2]?.[0]?.contentHash, applied[1]?.[0]?.contentHash);
    assert.equal(applied[2]?.[1]?.contentHash, applied[1]?.[1]?.contentHash);
  });

  it('a forced reload (SIGHUP) applies even when nothing changed', async () => {
    assert.equal(await live.reload({ reason: 'SIGHUP', force: true }), 'applied');
    assert.equal(applied.length, 4);
  });
});
