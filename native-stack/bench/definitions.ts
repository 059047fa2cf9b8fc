/**
 * Each bench's definition file, written into a directory of its own with the function code
 * copied next to it (a definition file refuses code outside its own tree). Exported so that
 * test/bench-definitions.test.ts validates every one with the orchestrator's loader: a bench
 * that would not start fails a unit test, not its next run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyCode, root, writeDefinitionFile } from '../test/helpers';
import { VERSION_FN } from '../test/version-load';

/** bench:cold-warm: `cold` and `warm` (Node hello, idle 500 ms / 10 min) and `cold-py` (Python); the cold ones without a warm tier (they must go after idle). */
export function coldWarmDefinitions(dir: string): string {
  const code = copyCode(dir, path.join(root, 'functions/hello'));
  return writeDefinitionFile(dir, {
    cold: { runtime: 'node', version: '1', code, idle_timeout: '500ms', warm: 'none' },
    'cold-py': { runtime: 'python', version: '1', code: copyCode(dir, path.join(root, 'functions/py-hello')), idle_timeout: '500ms', warm: 'none' },
    warm: { runtime: 'node', version: '1', code, idle_timeout: '10m' },
  });
}

/** bench:warm-tiers: one Node hello per warm tier (none, paused, created), idle 500 ms. */
export function warmTiersDefinitions(dir: string): string {
  const code = copyCode(dir, path.join(root, 'functions/hello'));
  const fn = (warm: string) => ({ runtime: 'node', version: '1', code, idle_timeout: '500ms', warm });
  return writeDefinitionFile(dir, { 'tier-cold': fn('none'), 'tier-paused': fn('paused'), 'tier-created': fn('created') });
}

/** bench:scale: the sleep function autoscaled (`auto`, up to max) and as a fixed pool of max (`fixed`). */
export function scaleDefinitions(dir: string, max: number): string {
  const common = { runtime: 'node', version: '1', code: copyCode(dir, path.join(root, 'functions/sleep')), concurrency: 2, max_instances: max, stable_window: '6s', panic_window: '1s', timeout: '15s' };
  return writeDefinitionFile(dir, {
    auto: { ...common, idle_timeout: '8s', warm: 'none' },
    fixed: { ...common, min_instances: max, idle_timeout: '10m' },
  });
}

/** bench:rollout: `ver` (answers its version) at this version; written again for each rollout. */
export function rolloutDefinitions(dir: string, version: string): string {
  const code = path.join('code', 'ver');
  // Written once: only the version changes between rollouts.
  if (!fs.existsSync(path.join(dir, code))) {
    fs.mkdirSync(path.join(dir, code), { recursive: true });
    fs.writeFileSync(path.join(dir, code, 'index.js'), VERSION_FN);
  }
  return writeDefinitionFile(dir, { ver: { runtime: 'node', version, code, concurrency: 8, timeout: '10s', idle_timeout: '10m' } });
}
