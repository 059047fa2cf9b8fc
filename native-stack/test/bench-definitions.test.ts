/**
 * Every bench's definition file passes the orchestrator's own loader (schema, code folders in
 * the file's tree, handlers present): a bench that could not start fails here, without Docker.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DefinitionError, loadDefinitionFile } from '@faas/contracts';
import { coldWarmDefinitions, rolloutDefinitions, scaleDefinitions, warmTiersDefinitions } from '../bench/definitions';

/** The names of the functions the loader accepted; every issue it found fails the test, named. */
function load(write: (dir: string) => string): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-bench-defs-'));
  try {
    return loadDefinitionFile(write(dir)).map((d) => d.name);
  } catch (err) {
    if (err instanceof DefinitionError) assert.deepEqual(err.issues, [], err.message);
    throw err;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('bench definition files', () => {
  const cases: [string, (dir: string) => string, string[]][] = [
    ['cold-warm', coldWarmDefinitions, ['cold', 'cold-py', 'warm']],
    ['warm-tiers', warmTiersDefinitions, ['tier-cold', 'tier-paused', 'tier-created']],
    ['scale', (dir) => scaleDefinitions(dir, 4), ['auto', 'fixed']],
    ['rollout', (dir) => rolloutDefinitions(dir, '1'), ['ver']],
    ['rollout, written again for the next version', (dir) => {
      rolloutDefinitions(dir, '1');
      return rolloutDefinitions(dir, '2');
    }, ['ver']],
  ];
  for (const [bench, write, names] of cases) {
    it(`${bench}: valid, with its functions`, () => {
      assert.deepEqual(load(write).sort(), [...names].sort());
    });
  }
});
