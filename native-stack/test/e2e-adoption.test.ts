/**
 * Orchestrator restarts: after a crash it adopts the containers it left running (same
 * container keeps serving, warm) and removes any it cannot use (a function no longer defined);
 * a graceful stop leaves nothing behind, also one right after start-up. Real processes and real dockerd, as in the cold path test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LABELS } from '@faas/contracts';
import type { ComponentExit } from '../src/launcher';
import { containers, docker, writeDefinitions } from './helpers';
import { useTestStack } from './test-stack';

describe('orchestrator restart: adoption and removal by label', { timeout: 180_000 }, () => {
  const exits: ComponentExit[] = [];
  const suite = useTestStack('adopt', {
    wakeTimeoutMs: 20_000,
    definitions: (dir) => writeDefinitions(dir, { hello: { version: '1', idle_timeout: '120s' } }),
    onComponentExit: (e) => exits.push(e),
  });
  const { id } = suite;
  const logs = suite.logs.lines;
  const waitForLine = async (match: (l: string) => boolean, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!logs.some(match)) {
      assert.ok(Date.now() < deadline, `${what}: not seen within 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('adopts its running container after a crash and removes a container of an undefined function', async () => {
    const cold = await fetch(`${suite.base}/hello`);
    assert.equal(cold.status, 200, await cold.text());
    const [warmBefore] = await containers(id, 'hello');
    assert.ok(warmBefore);

    // A leftover of this stack for a function that is not defined (any running container will do).
    const ghost = await docker.createContainer({
      Image: warmBefore.Image,
      Labels: { [LABELS.stack]: id, [LABELS.function]: 'ghost', [LABELS.version]: '1', [LABELS.instance]: 'aaaaaaaaaaaa' },
      Env: ['FAAS_HANDLER=index.handler'],
      HostConfig: { ReadonlyRootfs: true },
    });
    await ghost.start();

    await suite.stack.restart('orchestrator', 'crash');
    assert.deepEqual((await containers(id, 'hello')).map((c) => c.Id), [warmBefore.Id], 'crash left the container, restart adopted it');
    assert.equal((await containers(id, 'ghost')).length, 0, 'container of an undefined function removed at start');
    assert.ok(logs.some((l) => l.includes('"event":"instance_adopted"')), 'adoption logged');
    assert.ok(!logs.some((l) => l.includes('"event":"stale_image_cleanup_failed"')), 'stale image clean-up ran at start-up without error');

    const warm = await fetch(`${suite.base}/hello?name=again`);
    assert.equal(warm.status, 200);
    assert.equal(await warm.text(), 'Hello, again!\n');
    assert.equal(warm.headers.get('x-faas-held-ms'), null, 'adopted instance serves warm');
  });

  it('a graceful orchestrator stop removes its containers, and the next request is cold again', async () => {
    await suite.stack.restart('orchestrator', 'graceful');
    // The old orchestrator removed its container on shutdown; the new one starts with none.
    assert.equal((await containers(id, 'hello')).length, 0);
    const res = await fetch(`${suite.base}/hello`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('x-faas-held-ms') ?? '', /^\d+$/);
    assert.deepEqual(exits, [], 'orchestrator restarts are not unexpected exits');
  });

  it('a stop that follows the ready line at once is still graceful: containers removed, none adopted', async () => {
    const warm = await fetch(`${suite.base}/hello`);
    assert.equal(warm.status, 200, await warm.text());
    await suite.stack.restart('orchestrator', 'crash');
    assert.equal((await containers(id, 'hello')).length, 1, 'adopted after the crash');
    // At once: the SIGTERM reaches the orchestrator while it still scans its definition inputs.
    const mark = logs.length;
    await suite.stack.restart('orchestrator', 'graceful');
    const since = logs.slice(mark).filter((l) => l.startsWith('orchestrator '));
    assert.ok(since.some((l) => l.includes('"event":"stopped"')), 'the old orchestrator shut down (not killed by the signal)');
    assert.ok(!since.some((l) => l.includes('"event":"instance_adopted"')), 'the new one found nothing to adopt');
    assert.equal((await containers(id, 'hello')).length, 0);
  });

  it('a component that dies on its own is reported (component_exited with its code)', async () => {
    const pid = suite.stack.pid('statsd-listener');
    assert.ok(pid, 'statsd-listener runs');
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (exits.length === 0) {
      assert.ok(Date.now() < deadline, 'no exit reported');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(exits, [{ component: 'statsd-listener', code: null, signal: 'SIGKILL' }]);
    const line = logs.find((l) => l.includes('"event":"component_exited"'));
    assert.ok(line?.startsWith('stack '), 'logged through the sink by the stack');
    assert.match(line ?? '', /"component":"statsd-listener".*"code":null,"signal":"SIGKILL"/);
    await waitForLine((l) => l.startsWith('stack ') && l.includes('"event":"component_restarted"') && l.includes('"component":"statsd-listener"'), 'statsd-listener restarted');
    assert.notEqual(suite.stack.pid('statsd-listener'), pid);
  });

  it('a killed gateway (nginx master) or router is restarted on its port and serves again', async () => {
    for (const component of ['gateway', 'envoy-standin']) {
      const pid = suite.stack.pid(component);
      assert.ok(pid, `${component} runs`);
      process.kill(pid, 'SIGKILL');
      await waitForLine((l) => l.startsWith('stack ') && l.includes('"event":"component_restarted"') && l.includes(`"component":"${component}"`), `${component} restarted`);
      let res = await fetch(`${suite.base}/hello`);
      // The router's first request after its restart may precede its first xDS config.
      for (let i = 0; i < 50 && res.status !== 200; i++) {
        await res.text();
        await new Promise((r) => setTimeout(r, 200));
        res = await fetch(`${suite.base}/hello`);
      }
      assert.equal(res.status, 200, `${component}: ${await res.text()}`);
    }
  });
});
