/**
 * `npm run stack` as a user runs it (scripts/stack.sh, the existing dockerd, free ports and a temp
 * state dir so it cannot disturb anyone): a second stack on the same machine refuses with one
 * clear line and a non-zero status and the first keeps serving; Ctrl-C (SIGINT to the process
 * group) stops it with status 0, removes its lock and token files and leaves no container.
 * (A stack that starts its own dockerd: e2e-private-dockerd.test.ts, on a private socket.)
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { INTERNAL_AUTH } from '@faas/contracts';
import { containers, root, writeDefinitions } from './helpers';
import { LogWatch } from './load';

function runStackScript(env: NodeJS.ProcessEnv, logs: LogWatch): ChildProcess {
  // Own process group, as a terminal's foreground job: SIGINT goes to the whole group.
  const child = spawn('bash', [path.join(root, 'scripts', 'stack.sh')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const feed = (l: string) => logs.sink(l.slice(0, 15).trim(), l.slice(16));
  readline.createInterface({ input: child.stdout! }).on('line', feed);
  readline.createInterface({ input: child.stderr! }).on('line', feed);
  return child;
}

const exitOf = async (child: ChildProcess): Promise<number | null> =>
  child.exitCode ?? (await once(child, 'exit') as [number | null])[0];

describe('npm run stack: one per machine, Ctrl-C leaves nothing', { timeout: 300_000 }, () => {
  const id = `script-${randomBytes(3).toString('hex')}`;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let first: ChildProcess;
  const logs = new LogWatch();

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-script-'));
    env = {
      FAAS_STACK: id, FAAS_STATE_DIR: dir, FAAS_NATIVE_PORTS: 'free', FAAS_RUN_ID: '',
      FAAS_DEFINITIONS: writeDefinitions(dir, { hello: { version: '1', idle_timeout: '300s' } }),
    };
    first = runStackScript(env, logs);
    await logs.waitFor((l) => l.startsWith('stack ') && l.includes('"event":"ready"') && l.includes('"runId"'), 1, 180_000, 'first stack ready');
  });

  after(async () => {
    if (first.exitCode === null && first.signalCode === null) {
      process.kill(-first.pid!, 'SIGINT');
      await exitOf(first);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a second stack refuses to start, touches nothing, and the first keeps serving', async () => {
    const lock = JSON.parse(fs.readFileSync(path.join(dir, 'stack.json'), 'utf8')) as { pid: number; ports: { gateway: number } };
    const token = fs.readFileSync(path.join(dir, 'internal-token'), 'utf8').trim();
    assert.match(token, INTERNAL_AUTH.pattern);
    assert.equal(fs.statSync(path.join(dir, 'internal-token')).mode & 0o777, 0o600);
    const url = `http://127.0.0.1:${lock.ports.gateway}/hello`;
    const warm = await fetch(url);
    assert.equal(warm.status, 200, await warm.text());
    const before = (await containers(id)).map((c) => c.Id);

    const secondLogs = new LogWatch();
    const second = runStackScript(env, secondLogs);
    assert.equal(await exitOf(second), 1, 'a refused start exits non-zero');
    const refusals = secondLogs.lines.filter((l) => l.includes('"event":"start_refused"'));
    assert.equal(refusals.length, 1, secondLogs.lines.join('\n'));
    assert.ok(refusals[0]!.includes(`a stack is already running on 127.0.0.1:${lock.ports.gateway} (pid ${lock.pid})`), refusals[0]);

    assert.deepEqual((await containers(id)).map((c) => c.Id), before, 'the first stack\'s containers are untouched');
    assert.equal(fs.readFileSync(path.join(dir, 'internal-token'), 'utf8').trim(), token, 'token file untouched');
    const again = await fetch(url);
    assert.equal(again.status, 200, await again.text());
  });

  it('Ctrl-C stops with status 0, removes its files, and leaves no container', async () => {
    assert.ok((await containers(id)).length > 0, 'a warm instance exists before Ctrl-C');
    process.kill(-first.pid!, 'SIGINT');
    assert.equal(await exitOf(first), 0, 'a stop on request exits 0');
    assert.deepEqual(await containers(id), [], 'no container left');
    assert.ok(!fs.existsSync(path.join(dir, 'stack.json')), 'lock file removed');
    assert.ok(!fs.existsSync(path.join(dir, 'internal-token')), 'token file removed');
  });
});
