/**
 * Instance death under load, as in the native stack: each function instance is a real
 * process reached through docker-proxy on a published 127.0.0.1 port (docker-proxy accepts
 * the connection, then closes it when the instance behind is dead). SIGKILL one instance
 * while requests flow: the only requests that may fail are the ones whose handler had
 * started on the killed instance, each with 502 JSON instance_failed; every other request
 * is retried on another instance or held for the replacement.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClientErrorBodySchema } from '@faas/contracts';
import { freePort } from '@faas/stack';
import type { XdsServerHandle } from '@faas/xds-server';
import { type HttpResult, type RouterUnderTest, putFunction, request, startRouter, waitFor } from './helpers';

const DOCKER_PROXY = ['/usr/sbin/docker-proxy', '/usr/bin/docker-proxy', '/usr/libexec/docker/docker-proxy'].find((p) => fs.existsSync(p));

interface Instance { id: string; proc: ChildProcess; proxy: ChildProcess | undefined; port: number; log: string; started(): Set<string> }

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'standin-death-'));
const children: ChildProcess[] = [];

function lineFrom(stream: NodeJS.ReadableStream, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what}: no output within 10 s`)), 10_000);
    stream.on('data', (c: Buffer) => {
      buf += c.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) { clearTimeout(timer); resolve(buf.slice(0, i)); }
    });
  });
}

/** A function process, published on 127.0.0.1 through docker-proxy when the machine has it. */
async function startInstance(id: string): Promise<Instance> {
  const log = path.join(dir, `${id}.log`);
  fs.writeFileSync(log, '');
  const proc = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'function-process.js')], { env: { ...process.env, STANDIN_FN_LOG: log }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const fnPort = Number(await lineFrom(proc.stdout!, `instance ${id}`));
  let port = fnPort;
  let proxy: ChildProcess | undefined;
  if (DOCKER_PROXY !== undefined) {
    port = await freePort();
    // fd 3: docker-proxy reports "0\n" there once it listens (as it does to dockerd).
    proxy = spawn(DOCKER_PROXY, ['-proto', 'tcp', '-host-ip', '127.0.0.1', '-host-port', String(port), '-container-ip', '127.0.0.1', '-container-port', String(fnPort)], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    children.push(proxy);
    assert.equal(await lineFrom(proxy.stdio[3] as NodeJS.ReadableStream, `docker-proxy for ${id}`), '0');
  }
  const started = () => new Set(fs.readFileSync(log, 'utf8').split('\n').filter((l) => l !== ''));
  return { id, proc, proxy, port, log, started };
}

function kill(inst: Instance): Promise<void> {
  return new Promise((resolve) => { inst.proc.once('exit', () => resolve()); inst.proc.kill('SIGKILL'); });
}

interface Outcome { rid: string; r: HttpResult | undefined; err: Error | undefined }

/** `n` concurrent clients posting until stop(); every outcome by request id. */
function load(routerPort: number, fn: string, n: number) {
  const outcomes: Outcome[] = [];
  let stopped = false;
  let seq = 0;
  const loops = Array.from({ length: n }, async (_v, c) => {
    while (!stopped) {
      const rid = `death-${fn}-${c}-${seq++}`;
      try {
        const r = await request(routerPort, `/${fn}/work?ms=20`, { method: 'POST', body: Buffer.from('payload'.repeat(20)), headers: { 'x-request-id': rid, 'content-type': 'text/plain' } });
        outcomes.push({ rid, r, err: undefined });
      } catch (err) {
        outcomes.push({ rid, r: undefined, err: err as Error });
      }
    }
  });
  return {
    outcomes,
    ok: () => outcomes.filter((o) => o.r?.status === 200).length,
    stop: async () => { stopped = true; await Promise.all(loops); },
  };
}

/** Every failure is a 502 instance_failed of a request whose handler started on `killed` only. */
function assertOnlyInsideHandlerFailed(outcomes: readonly Outcome[], killed: Instance, others: readonly Instance[]): number {
  const startedOnKilled = killed.started();
  const startedElsewhere = new Set(others.flatMap((o) => [...o.started()]));
  const failed = outcomes.filter((o) => o.r?.status !== 200);
  for (const f of failed) {
    assert.ok(f.r !== undefined, `${f.rid}: the client got a connection error (${String(f.err?.message)})`);
    assert.equal(f.r.status, 502, `${f.rid}: ${f.r.status} ${f.r.body.toString()}`);
    const body = ClientErrorBodySchema.parse(JSON.parse(f.r.body.toString('utf8')));
    assert.equal(body.error, 'instance_failed');
    assert.equal(body.requestId, f.rid);
    assert.ok(startedOnKilled.has(f.rid), `${f.rid} failed but never reached a handler`);
    assert.ok(!startedElsewhere.has(f.rid), `${f.rid} ran on another instance too`);
  }
  return failed.length;
}

describe('instance death under load (function processes behind docker-proxy)', () => {
  let router: RouterUnderTest;
  let xds: XdsServerHandle;
  let routerPort: number;

  before(async () => {
    router = await startRouter();
    ({ xds, routerPort } = router);
  });

  after(async () => {
    await router?.close();
    // Wait for every exit, so no port of ours is still bound when the next test file starts.
    await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    })));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('two instances, one SIGKILLed: requests not yet in its handler go to the other', async () => {
    const [a, b] = await Promise.all([startInstance('a'), startInstance('b')]);
    const eps = [a, b].map((i) => ({ id: i.id, address: '127.0.0.1', port: i.port, health: 'HEALTHY' as const }));
    assert.equal((await putFunction(xds.httpPort, { name: 'pair', timeoutMs: 10_000, concurrency: 16, endpoints: eps })).status, 200);
    const l = load(routerPort, 'pair', 16);
    await waitFor('warm load', () => l.ok() >= 200 && a.started().size > 20, 20_000);
    await kill(a);
    // docker-proxy still accepts for the dead instance until the die event withdraws it.
    const before = l.ok();
    await waitFor('load after the kill', () => l.ok() >= before + 200, 20_000);
    assert.equal((await putFunction(xds.httpPort, { name: 'pair', timeoutMs: 10_000, concurrency: 16, endpoints: [eps[1]!] })).status, 200);
    const withdrawn = l.ok();
    await waitFor('load after the withdrawal', () => l.ok() >= withdrawn + 100, 20_000);
    await l.stop();
    const failed = assertOnlyInsideHandlerFailed(l.outcomes, a, [b]);
    assert.ok(failed <= 16, `at most one per client was inside the killed handler (${failed})`);
    if (DOCKER_PROXY !== undefined) assert.ok(router.standin.counter('cluster.fn-pair.upstream_rq_retry') > 0, 'requests sent to the dead instance were retried');
  });

  test('the only instance SIGKILLed: requests not yet in its handler wait for the replacement', async () => {
    const a = await startInstance('solo-a');
    const spec = (i: Instance) => ({ name: 'solo', timeoutMs: 10_000, concurrency: 16, endpoints: [{ id: i.id, address: '127.0.0.1', port: i.port, health: 'HEALTHY' as const }] });
    assert.equal((await putFunction(xds.httpPort, spec(a))).status, 200);
    const l = load(routerPort, 'solo', 8);
    await waitFor('warm load', () => l.ok() >= 100, 20_000);
    await kill(a);
    const replacement = await startInstance('solo-b');
    assert.equal((await putFunction(xds.httpPort, spec(replacement))).status, 200);
    const after = l.ok();
    await waitFor('load on the replacement', () => l.ok() >= after + 100, 20_000);
    await l.stop();
    assertOnlyInsideHandlerFailed(l.outcomes, a, [replacement]);
  });
});
