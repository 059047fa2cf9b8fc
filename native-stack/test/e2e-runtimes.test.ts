/**
 * The runtimes and handler styles through the whole native stack (gateway, router, orchestrator,
 * real dockerd): a Python HTTP-style function, a Node Lambda-style one (also on the Lambda invoke
 * path), and a Python Lambda-style `add`. One stack for the file; each function starts cold.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LABELS } from '@faas/contracts';
import { containers, docker, writeExampleDefinitions } from './helpers';
import { useTestStack } from './test-stack';

const INVOKE = '2015-03-31/functions/function/invocations';

describe('runtimes and handler styles end to end', { timeout: 120_000 }, () => {
  const heldMs: Record<string, string | null> = {};
  const suite = useTestStack('e2e-rt', {
    wakeTimeoutMs: 20_000,
    definitions: (dir) => writeExampleDefinitions(dir, ['py-hello', 'lambda-hello', 'add']),
    // Cold-start times, for the benchmarks (x-faas-held-ms of each function's first request).
    afterStop: async () => {
      process.stdout.write(`# cold start held ms: ${JSON.stringify(heldMs)}\n`);
    },
  });
  const { id } = suite;
  const logs = suite.logs.lines;

  const tail = (): string => logs.slice(-30).join('\n');

  it('py-hello: a Python HTTP-style function answers cold, in a locked-down container', async () => {
    const res = await fetch(`${suite.base}/py-hello?name=Guido`);
    const body = await res.text();
    heldMs['py-hello'] = res.headers.get('x-faas-held-ms');
    assert.equal(res.status, 200, `${body}\n${tail()}`);
    assert.equal(body, 'Hello from Python, Guido!\n');
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(heldMs['py-hello'] ?? '', /^\d+$/, 'the first request was held for a cold start');
    const [c] = await containers(id, 'py-hello');
    const info = await docker.getContainer(c!.Id).inspect();
    assert.equal(info.Config.Labels[LABELS.function], 'py-hello');
    assert.equal(info.Config.User, '10001:10001');
    assert.equal(info.HostConfig.ReadonlyRootfs, true);
    assert.equal(info.HostConfig.Memory, 128 * 1024 * 1024);
    assert.ok(info.Config.Env.includes('FAAS_HANDLER_STYLE=http'));
    assert.ok(info.Config.Env.includes(`FAAS_MAX_BODY_BYTES=${6 * 1024 * 1024}`));
    assert.ok(info.Config.Env.includes('FAAS_MEMORY_MB=128'));
  });

  it('lambda-hello: a Node Lambda-style function answers through the gateway with an API Gateway event', async () => {
    const res = await fetch(`${suite.base}/lambda-hello?name=Ada`);
    const body = await res.text();
    heldMs['lambda-hello'] = res.headers.get('x-faas-held-ms');
    assert.equal(res.status, 200, `${body}\n${tail()}`);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const json = JSON.parse(body) as { message: string; functionName: string; requestId: string };
    assert.equal(json.message, 'Hello, Ada!');
    assert.equal(json.functionName, 'lambda-hello');
    assert.equal(json.requestId, res.headers.get('x-request-id'));
  });

  it('lambda-hello: POST /lambda-hello/2015-03-31/functions/function/invocations takes a JSON event and answers the return value', async () => {
    const res = await fetch(`${suite.base}/lambda-hello/${INVOKE}`, { method: 'POST', body: JSON.stringify({ name: 'Lambda' }), headers: { 'content-type': 'application/json' } });
    const body = await res.text();
    assert.equal(res.status, 200, `${body}\n${tail()}`);
    const json = JSON.parse(body) as { message: string; functionName: string };
    assert.deepEqual([json.message, json.functionName], ['Hello, Lambda!', 'lambda-hello']);
  });

  it('add: {"x":1,"y":2} -> 3 through the gateway and on the invoke path (Python, Lambda style)', async () => {
    const res = await fetch(`${suite.base}/add`, { method: 'POST', body: '{"x":1,"y":2}', headers: { 'content-type': 'application/json' } });
    const body = await res.text();
    heldMs.add = res.headers.get('x-faas-held-ms');
    assert.equal(res.status, 200, `${body}\n${tail()}`);
    assert.equal(JSON.parse(body), 3);
    const inv = await fetch(`${suite.base}/add/${INVOKE}`, { method: 'POST', body: '{"x":40,"y":2.5}', headers: { 'content-type': 'application/json' } });
    assert.equal(inv.status, 200);
    assert.equal(JSON.parse(await inv.text()), 42.5);
  });

  it('add: a handler error on the invoke path is in Lambda\'s shape, without a stack trace', async () => {
    const res = await fetch(`${suite.base}/add/${INVOKE}`, { method: 'POST', body: '{"x":"one","y":2}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-amz-function-error'), 'Unhandled');
    assert.deepEqual(await res.json(), { errorMessage: 'x must be a number', errorType: 'ValueError' });
  });

  it('add: max_body (64KiB) is enforced by the runtime', async () => {
    const res = await fetch(`${suite.base}/add`, { method: 'POST', body: JSON.stringify({ x: 1, y: 2, pad: 'x'.repeat(70 * 1024) }), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: string }).error, 'body_too_large');
  });
});
