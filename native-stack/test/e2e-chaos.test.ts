/**
 * Supervision under load (issue 6): SIGKILL of the orchestrator, xds-server, redis-rest and Redis,
 * one at a time, while clients hit a warm function: no warm request fails, each component is
 * restarted by the launcher, and one container serves the function afterwards. One stack for the
 * whole kill sequence. Real processes and real dockerd.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FunctionRouteSpec, INTERNAL_AUTH, LABELS, authorizationHeader } from '@faas/contracts';
import { freePort } from '@faas/stack';
import { SANDBOX_POOL, containers, sandboxes } from './helpers';
import { type Load, stackEvent, startLoad } from './load';
import { useWarmStack } from './warm-stack';

const routerConnected = (line: string): boolean => line.startsWith('envoy-standin ') && line.includes('"event":"xds_connected"');

describe('chaos: control-plane crashes under a steady load', { timeout: 300_000 }, () => {
  // One load for the whole sequence; each step checks only the requests of its own window.
  let load: Load | undefined;
  const { id, logs, stack, url } = useWarmStack('chaos', async () => { await load?.stop(); });

  it('gives every component a run id and a per-run internal token', () => {
    assert.match(stack().runId, /^[a-z0-9][a-z0-9-]{0,63}$/);
    assert.match(stack().internalToken, INTERNAL_AUTH.pattern);
  });

  it('serves a warm function under a steady load', async () => {
    const cold = await fetch(url());
    assert.equal(cold.status, 200, await cold.text());
    load = startLoad(url(), 4, 'Hello, world!\n');
    await load.progress(50);
    assert.deepEqual(load.failures, []);
  });

  // xds-server last: the router's reconnection is the slowest recovery.
  for (const component of ['orchestrator', 'redis-rest', 'redis', 'xds-server']) {
    it(`SIGKILL of ${component}: it is restarted and no warm request fails`, async () => {
      const l = load;
      assert.ok(l, 'load running');
      const failedBefore = l.failures.length;
      const pid = stack().pid(component);
      assert.ok(pid, `${component} has a pid`);
      const restarts = logs.count(stackEvent('component_restarted', component));
      const routerConnects = logs.count(routerConnected);
      process.kill(pid, 'SIGKILL');
      await logs.waitFor(stackEvent('component_restarted', component), restarts + 1, 30_000, `${component} restarted`);
      assert.notEqual(stack().pid(component), pid, `${component} runs as a new process`);
      // The router's reconnection to a new xds-server belongs to this step, not to the next.
      if (component === 'xds-server') await logs.waitFor(routerConnected, routerConnects + 1, 30_000, 'router reconnected to xds-server');
      await l.progress(100).catch((err: unknown) => assert.fail(`${String(err)}; failures: ${l.failures.slice(failedBefore, failedBefore + 5).join(' | ')}`));
      assert.deepEqual(l.failures.slice(failedBefore), [], `no warm request failed after killing ${component}`);
    });
  }

  it('the data plane never stopped, and one container serves the function', async () => {
    await load?.stop();
    assert.ok(!logs.lines.some((l) => l.includes('"event":"component_crash_loop"')), 'four single crashes are not a crash loop');
    for (const c of ['gateway', 'envoy-standin']) assert.equal(logs.count(stackEvent('component_exited', c)), 0, `${c} never stopped`);
    const running = (await containers(id, 'hello')).filter((c) => c.State === 'running');
    assert.equal(running.length, 1, 'exactly one instance of hello after the crashes (adopted, not duplicated)');
    const all = await containers(id);
    assert.equal(all.length, 1, 'no orphan containers');
    // Network sandboxes: the instance's own, plus at most the ready pool (a killed run's idle ones were swept).
    const used = new Set(all.map((c) => c.Labels[LABELS.sandbox]).filter((s) => s !== undefined));
    const idle = (await sandboxes(id)).filter((s) => !used.has(s.Id));
    assert.ok(idle.length <= SANDBOX_POOL, `no orphan network sandboxes (${idle.length} idle)`);
  });

  it('a tampered endpoint in xds-server is repaired by the orchestrator within a reconcile period', async () => {
    const api = `http://127.0.0.1:${stack().ports.xdsHttp}/v1/functions`;
    const auth = authorizationHeader(stack().internalToken);
    const hello = async (): Promise<FunctionRouteSpec | undefined> =>
      ((await (await fetch(api, { headers: auth })).json()) as { functions: FunctionRouteSpec[] }).functions.find((f) => f.name === 'hello');
    const before = await hello();
    assert.ok(before && before.endpoints.length === 1, 'hello has its one endpoint');
    const repaired = (l: string) => l.includes('"event":"router_state_repaired"');
    const repairsBefore = logs.count(repaired);
    const elsewhere = await freePort();
    const tampered = { ...before, endpoints: before.endpoints.map((e) => ({ ...e, port: elsewhere })) };
    const put = await fetch(`${api}/hello?wait_ms=0`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(tampered) });
    assert.equal(put.status, 200, await put.text());
    await logs.waitFor(repaired, repairsBefore + 1, 15_000, 'orchestrator repaired the router state');
    // The repair is logged when the push starts: wait (bounded) for xds-server to hold it.
    const same = async () => JSON.stringify((await hello())?.endpoints) === JSON.stringify(before.endpoints);
    for (let i = 0; i < 100 && !(await same()); i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual((await hello())?.endpoints, before.endpoints, 'the endpoint the orchestrator wants is back');
    const res = await fetch(url());
    assert.equal(res.status, 200, await res.text());
  });

  it('refuses control API calls without the token (401 JSON)', async () => {
    const res = await fetch(`http://127.0.0.1:${stack().ports.xdsHttp}/v1/functions/hello`, { method: 'DELETE' });
    assert.equal(res.status, 401);
    assert.equal((await res.json() as { error: string }).error, 'unauthorized');
    const wake = await fetch(`http://127.0.0.1:${stack().ports.redisRest}/v1/functions/hello/wake`, { method: 'POST' });
    assert.equal(wake.status, 401);
  });
});
