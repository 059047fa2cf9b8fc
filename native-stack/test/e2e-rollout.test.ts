/**
 * Live edits through the native stack: the definition file is rewritten and the orchestrator
 * gets SIGHUP. A rollout under continuous load fails no request and ends with only the new
 * version's containers; a request that started on the old version finishes on it; a failed
 * build keeps the old version serving; a removed function drains, then answers 404.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LABELS } from '@faas/contracts';
import { containers, hostPortOf, writeDefinitions } from './helpers';
import { useTestStack } from './test-stack';
import { waitUntil } from './ramp-load';
import { VERSION_FN, versionLoad } from './version-load';

const PY_FN = `def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "py v1"}
`;

const versionsOf = async (stack: string, fn: string) => (await containers(stack, fn)).map((c) => c.Labels[LABELS.version] ?? '?').sort();

/** In-flight requests of a function's containers, read from their runtimes' /_faas/stats. */
async function inflight(stack: string, fn: string): Promise<number> {
  let n = 0;
  for (const c of await containers(stack, fn)) {
    const port = await hostPortOf(c.Id);
    if (port === undefined) continue;
    const stats = await fetch(`http://127.0.0.1:${port}/_faas/stats`).then((r) => r.json() as Promise<{ inflight: number }>).catch(() => ({ inflight: 0 }));
    n += stats.inflight;
  }
  return n;
}

describe('live edits: versions roll out without failing a request', { timeout: 600_000 }, () => {
  const fns: Record<string, Record<string, string | number>> = {};
  const suite = useTestStack('roll', {
    wakeTimeoutMs: 60_000,
    definitions: (dir) => {
      for (const name of ['ver', 'pyok', 'pybad']) fs.mkdirSync(path.join(dir, name));
      fs.writeFileSync(path.join(dir, 'ver', 'index.js'), VERSION_FN);
      fs.writeFileSync(path.join(dir, 'pyok', 'index.py'), PY_FN);
      // Valid for the definition loader (the module exists), refused by the image build (compileall).
      fs.writeFileSync(path.join(dir, 'pybad', 'index.py'), 'def handler(event:\n    return 1\n');
      fns.ver = { code: path.join(dir, 'ver'), version: '1', idle_timeout: '300s', concurrency: 8, timeout: '20s' };
      fns.gone = { code: path.join(dir, 'ver'), version: '1', idle_timeout: '300s', timeout: '20s' };
      fns.py = { runtime: 'python', code: path.join(dir, 'pyok'), version: '1', idle_timeout: '300s', timeout: '10s' };
      return writeDefinitions(dir, fns);
    },
  });
  const { id, logs, dir } = suite;

  /** Rewrite the definition file and tell the orchestrator (SIGHUP), as an operator would. */
  const edit = () => {
    writeDefinitions(dir, fns);
    const pid = suite.stack.pid('orchestrator');
    assert.ok(pid, 'orchestrator running');
    process.kill(pid, 'SIGHUP');
  };
  const orchestratorEvent = (event: string, fn: string) => (l: string) => l.startsWith('orchestrator ') && l.includes(`"event":"${event}"`) && l.includes(`"fn":"${fn}"`);

  it('a rollout under load fails no request, an old-version request finishes on it, only the new version remains', async () => {
    const warm = await fetch(`${suite.base}/ver`);
    assert.equal(warm.status, 200, await warm.text());
    const load = versionLoad(`${suite.base}/ver?ms=20`, 6);
    const t0 = Date.now();
    fns.ver = { ...fns.ver, version: '2' };
    edit();
    // Once the v2 image is built, a request the old version holds through the switch.
    await logs.waitFor(orchestratorEvent('rollout_begin', 'ver'), 1, 120_000, 'ver v2 built');
    let longDone = false;
    const long = fetch(`${suite.base}/ver?ms=6000`).then(async (r) => {
      longDone = true;
      return { status: r.status, body: await r.text() };
    });
    await waitUntil(async () => (await inflight(id, 'ver')) > 0, 10_000, () => 'the long request inside the v1 handler');
    await logs.waitFor(orchestratorEvent('rollout_switched', 'ver'), 1, 120_000, 'ver switched to v2');
    const switchedMs = Date.now() - t0;
    assert.equal(longDone, false, 'the long request was still in flight on v1 at the switch');
    const seenAtSwitch = load.seen.length;
    const longRes = await long;
    await logs.waitFor(orchestratorEvent('rollout_done', 'ver'), 1, 60_000, 'ver rollout done');
    await waitUntil(async () => (await versionsOf(id, 'ver')).every((v) => v === '2'), 30_000, () => 'only v2 containers');
    // Some requests after the old ones drained, all of them answered by v2.
    const seenAtDone = load.seen.length;
    await waitUntil(async () => load.seen.length > seenAtDone + 20, 10_000, () => 'requests after the rollout');
    await load.stop();
    const summary = `failed ${load.failures.length} of ${load.seen.length + load.failures.length} requests (${JSON.stringify([...load.byVersion])}); switch after ${switchedMs} ms; first failures: ${load.failures.slice(0, 5).join(' | ')}`;
    assert.equal(load.failures.length, 0, summary);
    assert.ok((load.byVersion.get('1') ?? 0) > 0 && (load.byVersion.get('2') ?? 0) > 0, `both versions served: ${summary}`);
    assert.deepEqual(load.seen.slice(seenAtDone), load.seen.slice(seenAtDone).map(() => '2'), 'after the rollout only v2 answers');
    assert.ok(seenAtSwitch > 0);
    assert.equal(longRes.status, 200, longRes.body);
    assert.equal((JSON.parse(longRes.body) as { version: string }).version, '1', 'the request that started on v1 finished on v1');
    assert.ok((await versionsOf(id, 'ver')).length >= 1);
  });

  it('a failed build keeps the old version serving and logs the build output', async () => {
    const first = await fetch(`${suite.base}/py`);
    assert.equal(first.status, 200, await first.text());
    fns.py = { ...fns.py, version: '2', code: path.join(dir, 'pybad') };
    edit();
    await logs.waitFor((l) => orchestratorEvent('rollout_failed', 'py')(l) && l.includes('"stage":"build"'), 1, 120_000, 'py v2 build failed');
    assert.ok(logs.lines.some((l) => l.includes('"event":"image_build_failed"') && l.includes('"fn":"py"') && l.includes('SyntaxError')), 'the build log tail names the error');
    const failures: string[] = [];
    for (let k = 0; k < 20; k += 1) {
      const res = await fetch(`${suite.base}/py`);
      const body = await res.text();
      if (res.status !== 200 || body !== 'py v1') failures.push(`${res.status} ${body.slice(0, 100)}`);
    }
    assert.deepEqual(failures, [], `failed ${failures.length} of 20 requests after the failed build`);
    assert.deepEqual(await versionsOf(id, 'py'), ['1']);
  });

  it('an added function becomes routable without a restart', async () => {
    const before404 = await fetch(`${suite.base}/added`);
    assert.equal(before404.status, 404, 'not defined yet');
    fns.added = { code: path.join(dir, 'ver'), version: '7', idle_timeout: '30s' };
    edit();
    await logs.waitFor(orchestratorEvent('function_added', 'added'), 1, 120_000, 'added registered');
    // Gateways learn the new state over their long poll: bounded wait for it, then a cold start.
    let last = '';
    await waitUntil(async () => {
      const res = await fetch(`${suite.base}/added`);
      last = `${res.status} ${await res.text()}`;
      return res.status !== 404;
    }, 10_000, () => `gateway still answers ${last}`);
    assert.match(last, /^200 .*"version":"7"/);
  });

  it('a removed function drains its in-flight request, then answers 404 unknown_function', async () => {
    const warm = await fetch(`${suite.base}/gone`);
    assert.equal(warm.status, 200, await warm.text());
    const long = fetch(`${suite.base}/gone?ms=2000`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await waitUntil(async () => (await inflight(id, 'gone')) > 0, 10_000, () => 'the long request inside the handler');
    delete fns.gone;
    edit();
    const res = await long;
    assert.equal(res.status, 200, `the in-flight request finished: ${res.body}`);
    await waitUntil(async () => (await fetch(`${suite.base}/gone`)).status === 404, 30_000, () => '404 for the removed function');
    const after404 = await fetch(`${suite.base}/gone`);
    assert.equal(after404.status, 404);
    assert.equal(((await after404.json()) as { error: string }).error, 'unknown_function');
    await logs.waitFor(orchestratorEvent('function_removed', 'gone'), 1, 60_000, 'gone removed');
    assert.equal((await containers(id, 'gone')).length, 0, 'its containers are gone');
    const others = await fetch(`${suite.base}/ver`);
    assert.equal(others.status, 200, 'other functions unaffected');
  });
  const rolloutEvent = (event: string, version: string) => (l: string) => orchestratorEvent(event, 'ver')(l) && l.includes(`"to":"${version}"`);
  const summarize = (load: ReturnType<typeof versionLoad>) =>
    `failed ${load.failures.length} of ${load.seen.length + load.failures.length} requests (${JSON.stringify([...load.byVersion])}); first failures: ${load.failures.slice(0, 5).join(' | ')}`;

  it('a second change mid-rollout ends with only the newest version, failing no request', async () => {
    const load = versionLoad(`${suite.base}/ver?ms=20`, 6);
    fns.ver = { ...fns.ver, version: '3' };
    edit();
    await logs.waitFor(rolloutEvent('rollout_begin', '3'), 1, 120_000, 'v3 built');
    fns.ver = { ...fns.ver, version: '4' };
    edit();
    await logs.waitFor(rolloutEvent('rollout_done', '4'), 1, 120_000, 'v4 rolled out');
    await waitUntil(async () => (await versionsOf(id, 'ver')).every((v) => v === '4'), 30_000, () => 'only v4 containers');
    const done = load.seen.length;
    await waitUntil(async () => load.seen.length > done + 20, 10_000, () => 'requests after the rollout');
    await load.stop();
    const v3 = logs.count(rolloutEvent('rollout_superseded', '3')) > 0 ? 'v3 superseded before its switch' : 'v3 switched, then replaced';
    assert.equal(load.failures.length, 0, `${summarize(load)}; ${v3}`);
    assert.ok(load.seen.slice(done).every((v) => v === '4'), `after the rollout only v4 answers (${v3})`);
  });

  it('an orchestrator crash mid-rollout: at restart the old version is drained, never adopted as current', async () => {
    const load = versionLoad(`${suite.base}/ver?ms=20`, 4);
    fns.ver = { ...fns.ver, version: '5' };
    edit();
    await logs.waitFor(rolloutEvent('rollout_begin', '5'), 1, 120_000, 'v5 built');
    const long = fetch(`${suite.base}/ver?ms=6000`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await waitUntil(async () => (await inflight(id, 'ver')) > 0, 10_000, () => 'the long request inside the v4 handler');
    await logs.waitFor(rolloutEvent('rollout_switched', '5'), 1, 120_000, 'v5 switched');
    // Killed while the v4 instance drains the long request; started again from the same file (v5).
    await suite.stack.restart('orchestrator', 'crash');
    const res = await long;
    assert.equal(res.status, 200, res.body);
    assert.equal((JSON.parse(res.body) as { version: string }).version, '4', 'the request finished on the version it started on');
    await waitUntil(async () => (await versionsOf(id, 'ver')).every((v) => v === '5'), 60_000, () => 'only v5 containers');
    await load.stop();
    assert.equal(load.failures.length, 0, summarize(load));
    assert.ok(logs.lines.some((l) => l.includes('"event":"container_draining_at_start"') && l.includes('"version":"4"')), 'the v4 container was adopted as draining');
    // py's current version (2) failed to build: its v1 container was kept serving across the restart.
    const py = await fetch(`${suite.base}/py`);
    assert.equal(`${py.status} ${await py.text()}`, '200 py v1');
  });
});
