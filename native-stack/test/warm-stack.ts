/**
 * The stack of the failure tests: one warm-able `hello` (idle 300 s), its log in a LogWatch
 * (written to FAAS_TEST_LOG_FILE after the suite, for a failed run), and a check that stopping
 * it leaves no container. Call inside a describe().
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { type Stack, startStack } from '../src/launcher';
import { containers, root, writeDefinitions } from './helpers';
import { LogWatch } from './load';

export interface WarmStack {
  id: string;
  logs: LogWatch;
  stack(): Stack;
  url(): string;
}

export function useWarmStack(prefix: string, beforeStop?: () => Promise<void>): WarmStack {
  const id = `${prefix}-${randomBytes(3).toString('hex')}`;
  const logs = new LogWatch();
  let stack: Stack | undefined;
  let dir: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `faas-${prefix}-`));
    stack = await startStack({
      root, stack: id, wakeTimeoutMs: 30_000, sink: logs.sink,
      definitionsFile: writeDefinitions(dir, { hello: { version: '1', idle_timeout: '300s' } }),
    });
  });
  after(async () => {
    await beforeStop?.();
    if (process.env.FAAS_TEST_LOG_FILE) fs.writeFileSync(process.env.FAAS_TEST_LOG_FILE, logs.lines.join('\n'));
    await stack?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal((await containers(id)).length, 0, 'stack stop leaves no function container');
  });
  const get = () => {
    assert.ok(stack, 'stack started');
    return stack;
  };
  return { id, logs, stack: get, url: () => `http://127.0.0.1:${get().ports.gateway}/hello` };
}
