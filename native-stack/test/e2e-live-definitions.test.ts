/**
 * The definition file as the live source of truth, through real processes: adding a function
 * to the file makes it routable without a restart, an edit of its code folder rolls it, an
 * invalid edit leaves the last valid configuration serving and shows on GET /v1/status with its
 * line, and removing a function makes the gateway answer 404 unknown_function.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ClientErrorBodySchema, type StatusResponse, StatusResponseSchema } from '@faas/contracts';
import { containers, writeDefinitions } from './helpers';
import { useTestStack } from './test-stack';

/** The suite's log lines (until() names the last ones). */
let logs: readonly string[] = [];

/** Poll (bounded) until `check` answers a value; the failure names the last thing seen. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs}ms (last error: ${String(last)})\n${logs.slice(-40).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('live definition edits end to end', { timeout: 420_000 }, () => {
  const hello = { version: '1', idle_timeout: '60s', timeout: '10s' };
  const echo = { version: '1', idle_timeout: '60s' };
  const suite = useTestStack('live', {
    definitions: (dir) => writeDefinitions(dir, { hello }),
    wakeTimeoutMs: 30_000,
    orchestratorEnv: { FAAS_WATCH_DEBOUNCE_MS: '100' },
  });
  const { id, dir } = suite;
  const file = path.join(dir, 'defs.yml');
  logs = suite.logs.lines;

  const status = async (): Promise<StatusResponse> => {
    const res = await fetch(`http://127.0.0.1:${suite.stack.ports.status}/v1/status`);
    assert.equal(res.status, 200);
    return StatusResponseSchema.parse(await res.json());
  };
  /** How an editor saves: a new file renamed over the old one. */
  const save = (text: string) => {
    const tmp = path.join(dir, '.defs.yml.tmp');
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  };
  const get = async (p: string) => {
    const res = await fetch(`${suite.base}${p}`, { method: p.startsWith('/echo') ? 'POST' : 'GET', body: p.startsWith('/echo') ? 'ping' : undefined });
    return { status: res.status, body: await res.text() };
  };

  it('starts with the file\'s functions; the status says so', async () => {
    assert.deepEqual(await get('/hello'), { status: 200, body: 'Hello, world!\n' });
    const s = await status();
    assert.equal(s.file, file);
    assert.equal(s.lastApplied?.ok, true);
    assert.deepEqual(s.functions.map((f) => [f.name, f.activeVersion]), [['hello', '1']]);
    const missing = await get('/echo');
    assert.equal(missing.status, 404);
    assert.equal(ClientErrorBodySchema.parse(JSON.parse(missing.body)).error, 'unknown_function');
    const nope = await fetch(`http://127.0.0.1:${suite.stack.ports.status}/v1/nope`);
    assert.equal(nope.status, 404);
    assert.equal(ClientErrorBodySchema.parse(await nope.json()).error, 'not_found');
  });

  it('a function added to the file becomes routable without a restart', async () => {
    const orchestratorPid = suite.stack.pid('orchestrator');
    writeDefinitions(dir, { hello, echo });
    await until('echo in the status', async () => ((await status()).functions.some((f) => f.name === 'echo') ? true : undefined));
    const r = await until('echo answering', async () => {
      const x = await get('/echo');
      return x.status === 200 ? x : undefined;
    });
    assert.equal(r.body, 'ping');
    assert.equal(suite.stack.pid('orchestrator'), orchestratorPid, 'no restart');
    assert.deepEqual(await get('/hello'), { status: 200, body: 'Hello, world!\n' });
  });

  it('an edit inside a function\'s code folder is a change of that function', async () => {
    const code = path.join(dir, 'code', 'hello', 'index.js');
    fs.writeFileSync(code, fs.readFileSync(code, 'utf8').replace('Hello, ', 'Hi, '));
    await until('the new code answering', async () => ((await get('/hello')).body === 'Hi, world!\n' ? true : undefined));
  });

  it('SIGHUP reloads at once, through the same path, without a restart', async () => {
    const pid = suite.stack.pid('orchestrator');
    assert.ok(pid);
    process.kill(pid, 'SIGHUP');
    await until('the SIGHUP reload in the log', async () => (logs.some((l) => l.includes('"event":"definitions_changed"') && l.includes('"reason":"SIGHUP"')) ? true : undefined), 30_000);
    assert.equal(suite.stack.pid('orchestrator'), pid);
    assert.equal((await get('/hello')).status, 200);
  });

  it('an invalid edit is rejected with its line; the last valid configuration keeps serving', async () => {
    const before = await status();
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.trimEnd().split('\n');
    // The last function in the file is echo: its new last line is the bad one.
    save(`${text.trimEnd()}\n    colour: red\n`);
    const s = await until('the rejected load in the status', async () => {
      const x = await status();
      return x.lastLoad?.ok === false ? x : undefined;
    });
    assert.deepEqual(s.lastApplied, before.lastApplied, 'nothing applied');
    const issue = s.lastLoad?.issues?.[0];
    assert.equal(issue?.file, file);
    assert.equal(issue?.line, lines.length + 1);
    assert.equal(issue?.function, 'echo');
    assert.match(issue?.message ?? '', /unknown field\(s\): colour/);
    assert.ok(logs.some((l) => l.includes('"event":"definitions_rejected"') && l.includes('colour')), 'one clear log line');
    assert.deepEqual(s.functions.map((f) => f.name), ['echo', 'hello']);
    assert.equal((await get('/echo')).status, 200);
    assert.equal((await get('/hello')).status, 200);
  });

  it('a function removed from the file answers 404 unknown_function', async () => {
    writeDefinitions(dir, { hello });
    await until('echo gone from the status', async () => ((await status()).functions.some((f) => f.name === 'echo') ? undefined : true));
    const r = await until('echo answering 404', async () => {
      const x = await get('/echo');
      return x.status === 404 ? x : undefined;
    });
    const body = ClientErrorBodySchema.parse(JSON.parse(r.body));
    assert.equal(body.error, 'unknown_function');
    assert.equal(body.fn, 'echo');
    const s = await status();
    assert.equal(s.lastLoad?.ok, true, 'the fixed file loaded');
    assert.equal((await containers(id, 'echo')).length, 0, 'its containers are gone');
    assert.equal((await get('/hello')).status, 200);
  });
});
