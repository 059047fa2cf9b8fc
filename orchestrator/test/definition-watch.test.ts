/** The watcher on a real filesystem: replaced files, code folders, ignored noise, polling. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, definitionWithDefaults } from '@faas/contracts';
import { DefinitionWatcher, inputsOf } from '../src/definition-watch';

const log = createLogger('test', {}, () => undefined);

/** Batches as they settle; `next(pred)` waits (bounded) for the first batch matching pred. */
function recorder() {
  const batches: string[][] = [];
  const waiters: (() => void)[] = [];
  return {
    batches,
    onChange: (paths: string[]) => {
      batches.push(paths);
      for (const w of waiters.splice(0)) w();
    },
    async next(pred: (b: string[]) => boolean, what: string): Promise<string[]> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const hit = batches.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) assert.fail(`no batch with ${what}; got ${JSON.stringify(batches)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 1000).unref();
        });
      }
    },
  };
}

for (const pollMs of [0, 50]) {
  describe(`DefinitionWatcher (${pollMs === 0 ? 'OS events' : 'polling'})`, () => {
    let dir: string;
    let file: string;
    let w: DefinitionWatcher;
    const rec = recorder();

    before(async () => {
      dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'defs-watch-')));
      file = path.join(dir, 'defs.yml');
      fs.writeFileSync(file, 'functions: {}\n');
      fs.mkdirSync(path.join(dir, 'fns', 'a', 'lib'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'fns', 'b'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'fns', 'a', 'index.js'), '1');
      fs.writeFileSync(path.join(dir, 'token'), 'x');
      const a = definitionWithDefaults('a', path.join(dir, 'fns', 'a'), { secrets: { token: path.join(dir, 'token') } });
      w = await DefinitionWatcher.start({ file, debounceMs: 50, pollMs, onChange: rec.onChange, log }, [a]);
    });
    after(async () => {
      await w?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('sees the file replaced by a rename (how editors save), not the temp file', async () => {
      const tmp = path.join(dir, '.defs.yml.swp');
      fs.writeFileSync(tmp, 'functions:\n  a: {}\n');
      fs.renameSync(tmp, file);
      const batch = await rec.next((b) => b.includes(file), 'the definition file');
      assert.ok(!rec.batches.flat().includes(tmp), JSON.stringify(rec.batches));
      assert.ok(batch.every((p) => p === file), JSON.stringify(batch));
    });

    it('sees an in-place write of the file, and the watch survived the rename', async () => {
      fs.appendFileSync(file, '# edited\n');
      const n = rec.batches.length;
      await rec.next((b) => rec.batches.indexOf(b) >= n && b.includes(file), 'the file after the rename');
    });

    it('a new file deep in a code folder is a change; node_modules is not', async () => {
      fs.mkdirSync(path.join(dir, 'fns', 'a', 'node_modules'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'fns', 'a', 'node_modules', 'x.js'), '');
      const changed = path.join(dir, 'fns', 'a', 'lib', 'util.js');
      fs.writeFileSync(changed, '2');
      await rec.next((b) => b.includes(changed), 'the code file');
      assert.ok(!rec.batches.flat().some((p) => p.includes('node_modules')), JSON.stringify(rec.batches));
    });

    it('a rotated secret file is a change', async () => {
      const secret = path.join(dir, 'token');
      fs.writeFileSync(`${secret}.new`, 'rotated');
      fs.renameSync(`${secret}.new`, secret);
      await rec.next((b) => b.includes(secret), 'the secret file');
    });

    it('follows code folders of functions added later', async () => {
      w.follow([definitionWithDefaults('b', path.join(dir, 'fns', 'b'))]);
      // chokidar scans an added folder asynchronously: write until the first event arrives.
      const changed = path.join(dir, 'fns', 'b', 'index.js');
      let k = 0;
      const writing = setInterval(() => fs.writeFileSync(changed, String((k += 1))), 100);
      try {
        await rec.next((b) => b.includes(changed), 'the added folder');
      } finally {
        clearInterval(writing);
      }
    });
  });
}

it('inputsOf lists code folders and secret files once, sorted', () => {
  const a = definitionWithDefaults('a', '/x/a', { secrets: { s: '/x/s' } });
  const b = definitionWithDefaults('b', '/x/a');
  assert.deepEqual(inputsOf([a, b]), ['/x/a', '/x/s']);
});
