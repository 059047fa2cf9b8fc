/**
 * A function instance killed under load (issue 6 item 3): only requests that were inside its
 * handler may fail; the others are retried or held for the replacement, which then serves.
 * With C clients sending one request at a time, at most C requests can be inside the handler
 * when it dies, and each failure must be the router's `instance_failed` (it had reached the
 * instance). Real processes and real dockerd.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containers, docker } from './helpers';
import { startLoad } from './load';
import { useWarmStack } from './warm-stack';

const CLIENTS = 4;

describe('function instance killed under load', { timeout: 240_000 }, () => {
  const { id, url } = useWarmStack('death');

  it('fails at most the requests inside the killed handler, then a replacement serves', async (t) => {
    const cold = await fetch(url());
    assert.equal(cold.status, 200, await cold.text());
    const [victim] = await containers(id, 'hello');
    assert.ok(victim);
    const load = startLoad(url(), CLIENTS, 'Hello, world!\n');
    try {
      await load.progress(50);
      await docker.getContainer(victim.Id).kill({ signal: 'SIGKILL' });
      // The replacement is a cold start: held requests wait for it (bounded by the wake timeout).
      await load.progress(100, 60_000);
    } finally {
      await load.stop();
    }
    t.diagnostic(`${load.failures.length} of ${load.ok() + load.failures.length} requests failed: ${load.failures.slice(0, 5).join(' | ')}`);
    assert.ok(load.failures.length <= CLIENTS, `${load.failures.length} requests failed (at most ${CLIENTS} were inside the handler): ${load.failures.slice(0, 5).join(' | ')}`);
    // A request that failed must be one the instance had taken: the router says so (instance_failed).
    // "no healthy upstream" or a reset before the handler was reached must have been retried or held.
    const notReached = load.failures.filter((f) => !/^502 .*"error":"instance_failed"/.test(f));
    assert.deepEqual(notReached, [], 'only requests inside the killed handler may fail');
    const running = (await containers(id, 'hello')).filter((c) => c.State === 'running');
    assert.equal(running.length, 1, 'one replacement instance');
    assert.notEqual(running[0]!.Id, victim.Id);
  });
});
