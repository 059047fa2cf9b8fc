/**
 * An instance killed by the kernel for memory (issue 6 item 4): the waiting client gets 502 JSON
 * `out_of_memory` naming the function and carrying its request id (the router's instance_failed,
 * turned by the gateway after the orchestrator's record, contracts/instance-failures.ts); the
 * orchestrator logs `instance_oom` with the instance id; the next request is served by a new
 * instance. Real processes and dockerd; the fixture allocates until its 64 MB cgroup is full.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ClientErrorBodySchema, HEADERS, LABELS } from '@faas/contracts';
import { containers, root, writeDefinitions } from './helpers';
import { useTestStack } from './test-stack';

describe('a function instance killed for memory', { timeout: 240_000 }, () => {
  const suite = useTestStack('oom', {
    wakeTimeoutMs: 60_000,
    definitions: (dir) => writeDefinitions(dir, { oom: { code: path.join(root, 'native-stack', 'test', 'fixtures', 'oom'), version: '1', memory_mb: 64, idle_timeout: '300s' } }),
  });
  const { id, logs } = suite;
  const url = (q = '') => `${suite.base}/oom${q}`;

  it('answers 502 out_of_memory with fn and requestId, logs instance_oom, and recovers', async () => {
    const warm = await fetch(url());
    assert.equal(warm.status, 200, await warm.text());
    const [victim] = await containers(id, 'oom');
    assert.ok(victim);
    const instance = victim.Labels[LABELS.instance];
    assert.ok(instance);

    const requestId = `oom-${randomBytes(4).toString('hex')}`;
    const res = await fetch(url('?grow=1'), { headers: { [HEADERS.requestId]: requestId } });
    const text = await res.text();
    assert.equal(res.status, 502, text);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const body = ClientErrorBodySchema.parse(JSON.parse(text));
    assert.equal(body.error, 'out_of_memory', text);
    assert.equal(body.fn, 'oom');
    assert.equal(body.requestId, requestId);

    const oomLine = (l: string) => l.startsWith('orchestrator ') && l.includes('"event":"instance_oom"') && l.includes(`"instance":"${instance}"`);
    await logs.waitFor(oomLine, 1, 10_000, 'instance_oom logged with the instance id');
    assert.ok(logs.lines.find(oomLine)!.includes('"fn":"oom"'));

    // Recovery: the next request wakes a new instance.
    const again = await fetch(url());
    assert.equal(again.status, 200, await again.text());
    const running = (await containers(id, 'oom')).filter((c) => c.State === 'running');
    assert.equal(running.length, 1, 'one replacement instance');
    assert.notEqual(running[0]!.Labels[LABELS.instance], instance);
  });
});
