/**
 * The stack of an end-to-end suite: a temp directory for its definition file, the stack
 * started before the suite's tests and stopped after them, every log line in a LogWatch. A
 * failed start or test shows the last log lines; the log goes to FAAS_TEST_LOG_FILE when set;
 * after the stop no function container of the stack may be left. Call inside a describe().
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before } from 'node:test';
import { type Stack, type StackOptions, startStack } from '../src/launcher';
import { containers, root } from './helpers';
import { LogWatch } from './load';

export interface TestStackOptions extends Omit<StackOptions, 'root' | 'stack' | 'definitionsFile' | 'sink'> {
  /** Writes the definition file into the suite's directory; answers its path. */
  definitions: (dir: string) => string;
  /** Before the stack stops (e.g. end a load that would see the stop). */
  beforeStop?: () => Promise<void>;
  /** After the stack stopped and the container check passed (e.g. more checks of what is left). */
  afterStop?: () => Promise<void>;
}

export interface TestStack {
  /** The stack id (LABELS.stack of its containers): `<prefix>-<random>`. */
  readonly id: string;
  /** The suite's temp directory: definition file and copied code. */
  readonly dir: string;
  readonly logs: LogWatch;
  /** The running stack (only inside tests and hooks after the start). */
  readonly stack: Stack;
  /** http://127.0.0.1:<gateway port> */
  readonly base: string;
  /** The last n log lines, for a failure message. */
  tail(n?: number): string;
}

export function useTestStack(prefix: string, opts: TestStackOptions): TestStack {
  const { definitions, beforeStop, afterStop, ...stackOptions } = opts;
  const id = `${prefix}-${randomBytes(3).toString('hex')}`;
  const logs = new LogWatch();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `faas-${prefix}-`));
  const tail = (n = 30) => logs.lines.slice(-n).join('\n');
  let stack: Stack | undefined;

  before(async () => {
    stack = await startStack({ ...stackOptions, root, stack: id, definitionsFile: definitions(dir), sink: logs.sink }).catch((err: unknown) => {
      throw new Error(`stack ${id} did not start: ${String(err)}\n${tail()}`, { cause: err });
    });
  });
  afterEach((t) => {
    // TestContext.passed (Node >= 20.12) is not in the installed @types/node yet.
    const test = t as unknown as { passed?: boolean; diagnostic(message: string): void };
    if (test.passed !== false) return;
    // One diagnostic per line: TAP escapes a newline inside one.
    test.diagnostic(`last log lines of stack ${id}:`);
    for (const line of logs.lines.slice(-30)) test.diagnostic(line);
  });
  after(async () => {
    await beforeStop?.();
    if (process.env.FAAS_TEST_LOG_FILE) fs.writeFileSync(process.env.FAAS_TEST_LOG_FILE, logs.lines.join('\n'));
    await stack?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal((await containers(id)).length, 0, `stack stop leaves no function container\n${tail()}`);
    await afterStop?.();
  });

  return {
    id, dir, logs, tail,
    get stack() {
      assert.ok(stack, `stack ${id} started`);
      return stack;
    },
    get base() {
      return `http://127.0.0.1:${this.stack.ports.gateway}`;
    },
  };
}
