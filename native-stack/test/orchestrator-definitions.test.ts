/** The orchestrator refuses to start on an invalid definition file, naming the problem. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { it } from 'node:test';

const root = path.resolve(__dirname, '../../..');

it('orchestrator exits 1 on an invalid definition file and names file, function and field', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-bad-'));
  try {
    const file = path.join(dir, 'bad.yml');
    fs.writeFileSync(file, 'functions:\n  hello:\n    runtime: node\n    version: 1.10\n    code: nope\n');
    const r = spawnSync(process.execPath, [path.join(root, 'orchestrator/dist/src/main.js')], {
      env: { ...process.env, FAAS_DEFINITIONS: file, FAAS_STACK: 'badfile', REDIS_URL: 'redis://127.0.0.1:1' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4: function "hello": field "version": must be a quoted string`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
