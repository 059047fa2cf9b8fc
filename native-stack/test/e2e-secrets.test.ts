/**
 * Secrets, environment and limits through the native stack (gateway, router, orchestrator, real
 * dockerd): the `payroll` and `secret` examples as the repository defines them, a probe function
 * that reports what it sees inside its container (env, cgroup limits, /run/secrets), and a
 * function whose secret file is missing at start. Then: no secret value in any log of the stack,
 * in the images (inspect, history, every layer) or in the containers' inspect.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LABELS } from '@faas/contracts';
import { containers, docker, exampleDefinitions, root, writeDefinitionFile } from './helpers';
import { useTestStack } from './test-stack';

const SECRET = `e2e-secret-${randomBytes(12).toString('hex')}`;
const DEMO = fs.readFileSync(path.join(root, 'functions', 'secret', 'demo-token.secret'), 'utf8').trim();
const LATE = `e2e-late-${randomBytes(12).toString('hex')}`;
const VALUES = [SECRET, DEMO, LATE];
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Reports the container as the function sees it; hashes of secrets, never their values. */
const PROBE = `
const fs = require('node:fs');
const crypto = require('node:crypto');
const read = (p) => { try { return fs.readFileSync(p, 'utf8').trim(); } catch { return null; } };
exports.handler = async () => {
  const secrets = {};
  let names = [];
  try { names = fs.readdirSync('/run/secrets'); } catch { names = []; }
  for (const n of names) {
    const p = '/run/secrets/' + n;
    const st = fs.statSync(p);
    secrets[n] = { sha256: crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex'), uid: st.uid, mode: (st.mode & 0o777).toString(8) };
  }
  let writable = true;
  try { fs.writeFileSync('/run/secrets/x', 'x'); } catch { writable = false; }
  return {
    env: process.env, uid: process.getuid(), secrets, secretsWritable: writable,
    dirMode: names.length ? (fs.statSync('/run/secrets').mode & 0o777).toString(8) : null,
    pidsMax: read('/sys/fs/cgroup/pids.max') ?? read('/sys/fs/cgroup/pids/pids.max'),
    memoryMax: read('/sys/fs/cgroup/memory.max') ?? read('/sys/fs/cgroup/memory/memory.limit_in_bytes'),
    cpuMax: read('/sys/fs/cgroup/cpu.max') ?? [read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'), read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')].join(' '),
  };
};
`;

/** Every occurrence of any value in a stream (kept across chunk boundaries). */
async function streamContains(stream: NodeJS.ReadableStream, values: readonly string[]): Promise<string[]> {
  const needles = values.map((v) => Buffer.from(v));
  const keep = Math.max(...needles.map((n) => n.length)) - 1;
  const found = new Set<string>();
  let tail = Buffer.alloc(0);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const buf = Buffer.concat([tail, chunk]);
    needles.forEach((n, i) => {
      if (buf.includes(n)) found.add(values[i] as string);
    });
    tail = buf.subarray(Math.max(0, buf.length - keep));
  }
  return [...found];
}

const leaked = (text: string) => VALUES.filter((v) => text.includes(v));

describe('secrets, environment and limits end to end', { timeout: 300_000 }, () => {
  let lateFile = '';
  const secretsDir = path.join(root, '.stack', 'secrets');
  const suite = useTestStack('e2e-sec', {
    wakeTimeoutMs: 60_000,
    definitions: (dir) => {
      fs.mkdirSync(path.join(dir, 'probe'));
      fs.writeFileSync(path.join(dir, 'probe', 'index.js'), PROBE);
      fs.writeFileSync(path.join(dir, 'probe.secret'), `${SECRET}\n`);
      lateFile = path.join(dir, 'late.secret');
      return writeDefinitionFile(dir, {
        ...exampleDefinitions(dir, ['payroll', 'secret']),
        probe: {
          runtime: 'node', version: '1', code: path.join(dir, 'probe'), timeout: '10s',
          memory_mb: 96, cpus: 0.5, pids: 64, concurrency: 3,
          env: { GREETING: 'hello from env', COUNT: 3 },
          secrets: { 'probe-token': path.join(dir, 'probe.secret') },
        },
        // Its secret file appears only later: not started until then, the others serve.
        late: { runtime: 'node', version: '1', code: path.join(dir, 'probe'), timeout: '10s', min_instances: 1, secrets: { 'late-token': lateFile } },
      });
    },
    afterStop: async () => {
      assert.equal(fs.existsSync(path.join(secretsDir, id)), false, "the stack's secrets directory is gone");
      // Every line every component wrote during the test (orchestrator, gateway, routers, ...).
      assert.deepEqual(leaked(logs.join('\n')), [], 'no secret value in any log line');
    },
  });
  const { id, tail } = suite;
  const logs = suite.logs.lines;

  it('payroll: base salary plus bonus, JSON in and out', async () => {
    const res = await fetch(`${suite.base}/payroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"base":1000,"bonus_pct":10}' });
    const text = await res.text();
    assert.equal(res.status, 200, `${text}\n${tail()}`);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(text), { base: 1000, bonus_pct: 10, bonus: 100, total: 1100 });
    const cents = await (await fetch(`${suite.base}/payroll`, { method: 'POST', body: '{"base":1234.5,"bonus_pct":7.5}' })).json();
    assert.deepEqual(cents, { base: 1234.5, bonus_pct: 7.5, bonus: 92.59, total: 1327.09 });
    assert.deepEqual(await (await fetch(`${suite.base}/payroll`, { method: 'POST', body: '{"base":500}' })).json(), { base: 500, bonus_pct: 0, bonus: 0, total: 500 });
  });

  it('payroll: bad input is a 400 JSON error from the handler', async () => {
    const cases: [string, RegExp][] = [
      ['not json', /must be JSON/],
      ['[1000]', /JSON object/],
      ['{}', /base is required/],
      ['{"base":"1000"}', /base must be a number/],
      ['{"base":true}', /base must be a number/],
      ['{"base":-1}', /base must be between/],
      ['{"base":1000,"bonus_pct":NaN}', /must be JSON|bonus_pct must be a number/],
      ['{"base":1000,"bonus":5}', /unknown field\(s\): bonus/],
    ];
    for (const [body, message] of cases) {
      const res = await fetch(`${suite.base}/payroll`, { method: 'POST', body });
      const got = (await res.json()) as { error: string; message: string };
      assert.equal(res.status, 400, body);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(got.error, 'invalid_input', body);
      assert.match(got.message, message, body);
    }
  });

  it('secret: the mounted demo secret checks a token without ever answering it', async () => {
    const ask = async (token: unknown) => {
      const res = await fetch(`${suite.base}/secret`, { method: 'POST', body: JSON.stringify({ token }) });
      const text = await res.text();
      assert.deepEqual(leaked(text), []);
      return { status: res.status, body: JSON.parse(text) as unknown };
    };
    assert.deepEqual(await ask(DEMO), { status: 200, body: { match: true } }, tail());
    assert.deepEqual(await ask(`${DEMO}x`), { status: 200, body: { match: false } });
    assert.equal((await ask(42)).status, 400);
    assert.deepEqual(await (await fetch(`${suite.base}/secret`)).json(), { configured: true });
  });

  it('env, limits and secrets reach the function, as the definition says', async () => {
    const res = await fetch(`${suite.base}/probe`);
    const text = await res.text();
    assert.equal(res.status, 200, `${text}\n${tail()}`);
    assert.deepEqual(leaked(text), []);
    const seen = JSON.parse(text) as {
      env: Record<string, string>; uid: number; secrets: Record<string, { sha256: string; uid: number; mode: string }>;
      secretsWritable: boolean; dirMode: string; pidsMax: string; memoryMax: string; cpuMax: string;
    };
    assert.equal(seen.env.GREETING, 'hello from env');
    assert.equal(seen.env.COUNT, '3');
    assert.equal(seen.env.FAAS_CONCURRENCY, '3', 'the runtime enforces this concurrency');
    assert.equal(seen.env.FAAS_MEMORY_MB, '96');
    assert.ok(!Object.keys(seen.env).some((k) => /secret|token/i.test(k)), 'no secret variable in env');
    assert.equal(seen.pidsMax, '64');
    assert.equal(seen.memoryMax, String(96 * 1024 * 1024));
    assert.match(seen.cpuMax, /^50000 100000$/);
    assert.equal(seen.uid, 10001);
    assert.deepEqual(Object.keys(seen.secrets), ['probe-token']);
    assert.equal(seen.secrets['probe-token']?.sha256, sha256(`${SECRET}\n`), 'the file as written');
    assert.equal(seen.secrets['probe-token']?.uid, 10001);
    assert.equal(seen.secrets['probe-token']?.mode, '400');
    assert.equal(seen.dirMode, '500');
    assert.equal(seen.secretsWritable, false, 'mounted read-only');
  });

  it('a missing secret file: named at start, its function never started, others serve; once it exists, it starts', async () => {
    const startLine = logs.find((l) => l.includes('"secret_unreadable"') && l.includes('"late"'));
    assert.ok(startLine, `start-up names the function and file\n${tail()}`);
    assert.ok(startLine.includes(lateFile) && startLine.includes('no such file'), startLine);
    // min_instances 1: the autoscaler asks for an instance, each attempt is refused before Docker.
    const pid = suite.stack.pid('orchestrator');
    const deadline = Date.now() + 20_000;
    while (!logs.some((l) => /"event":"(cold_start_failed|scale_up_failed)"/.test(l) && l.includes('"fn":"late"') && l.includes('secret_unreadable'))) {
      assert.ok(Date.now() < deadline, `an instance start was refused naming the secret\n${tail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal((await containers(id, 'late')).length, 0, 'no container for a function whose secret is missing');
    assert.equal(suite.stack.pid('orchestrator'), pid, 'the orchestrator did not restart');
    assert.equal((await fetch(`${suite.base}/payroll`, { method: 'POST', body: '{"base":1}' })).status, 200);
    fs.writeFileSync(lateFile, LATE);
    const res = await fetch(`${suite.base}/late`);
    const seen = (await res.json()) as { secrets: Record<string, { sha256: string }> };
    assert.equal(res.status, 200, tail());
    assert.equal(seen.secrets['late-token']?.sha256, sha256(LATE));
  });

  it('secret values are in no container env or inspect, no image config, history or layer; files on the host are private', async () => {
    for (const fn of ['secret', 'probe', 'late']) {
      const [c] = await containers(id, fn);
      assert.ok(c, `${fn} runs`);
      const info = await docker.getContainer(c.Id).inspect();
      assert.deepEqual(leaked(JSON.stringify(info)), [], `${fn}: container inspect`);
      assert.deepEqual(leaked(info.Config.Env.join('\n')), [], `${fn}: env`);
      assert.ok(!info.Config.Env.some((e) => e.includes('/run/secrets') || e.includes(secretsDir)), `${fn}: not even a path in env`);
      const mount = info.Mounts.find((m) => m.Destination === '/run/secrets');
      assert.equal(mount?.Type, 'bind');
      assert.equal(mount?.RW, false);
      const instance = info.Config.Labels[LABELS.instance] as string;
      assert.equal(mount?.Source, path.join(secretsDir, id, instance));
      const hostDir = fs.statSync(mount.Source);
      assert.equal(hostDir.uid, 10001);
      assert.equal(hostDir.mode & 0o777, 0o500);
      assert.equal(fs.statSync(path.join(secretsDir, id)).mode & 0o777, 0o700, 'only the orchestrator enters the stack directory');
      const logsOf = await docker.getContainer(c.Id).logs({ stdout: true, stderr: true });
      assert.deepEqual(leaked(logsOf.toString('utf8')), [], `${fn}: container logs`);
      const image = docker.getImage(info.Image);
      assert.deepEqual(leaked(JSON.stringify(await image.inspect())), [], `${fn}: image inspect`);
      assert.deepEqual(leaked(JSON.stringify(await image.history())), [], `${fn}: image history`);
      // The handler's own code is found in the layers: the scan does see file contents.
      const control = fn === 'secret' ? 'timingSafeEqual' : 'secretsWritable';
      assert.deepEqual(await streamContains(await image.get(), [...VALUES, control]), [control], `${fn}: image layers (docker save)`);
    }
  });

  it('secret directories follow their containers across orchestrator restarts', async () => {
    const stackDir = path.join(secretsDir, id);
    const dirs = () => (fs.existsSync(stackDir) ? fs.readdirSync(stackDir) : []);
    const instances = async () => (await Promise.all(['secret', 'probe', 'late'].map((fn) => containers(id, fn)))).flat().map((c) => c.Labels[LABELS.instance] as string);
    // A crash can leave a directory whose container is gone: the next start sweeps it.
    fs.mkdirSync(path.join(stackDir, 'leftover0000'));
    await suite.stack.restart('orchestrator', 'crash');
    assert.ok(!dirs().includes('leftover0000'), 'swept at start');
    assert.ok(logs.some((l) => l.includes('"event":"secret_dirs_swept"')));
    for (const inst of await instances()) assert.ok(dirs().includes(inst), `adopted instance ${inst} keeps its secrets`);
    const seen = (await (await fetch(`${suite.base}/probe`)).json()) as { secrets: Record<string, { sha256: string }> };
    assert.equal(seen.secrets['probe-token']?.sha256, sha256(`${SECRET}\n`));

    const before = await instances();
    await suite.stack.restart('orchestrator', 'graceful');
    // The new orchestrator may already be starting `late` (min_instances 1): only old ones must be gone.
    assert.deepEqual(dirs().filter((d) => before.includes(d)), [], 'removed with their containers on shutdown');
  });
});
