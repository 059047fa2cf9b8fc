/** Failure paths: router unreachable, no orchestrator heartbeat, redis-rest down, wrong token. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ClientErrorBody } from '@faas/contracts';
import { freePort } from '@faas/stack';
import type { Gateway } from '../src/index';
import { type Backends, assertClientError, startBackends, startPrimedGateway, stopBackends } from './harness';

let b: Backends;
let gw: Gateway;
const errorLines: string[] = [];
const url = (p: string) => `http://127.0.0.1:${gw.port}${p}`;

before(async () => {
  b = await startBackends({ up: { state: 'warm' }, down: { startMs: 100 } });
  // Nothing listens on the router port: every proxied request fails to connect.
  gw = await startPrimedGateway(b, { workers: 1, routerPort: await freePort(), wakeTimeoutMs: 2000, onLog: (l, s) => { if (s === 'stderr') errorLines.push(l); } });
});

after(async () => {
  await gw?.stop();
  await stopBackends(b);
});

async function expectJsonError(p: string, code: string): Promise<ClientErrorBody> {
  const res = await fetch(url(p));
  if (res.status >= 500) assert.ok(res.headers.get('retry-after'), 'Retry-After on 5xx');
  return assertClientError(res.status, res.headers.get('content-type'), await res.text(), code);
}

test('router unreachable: 502 bad_gateway JSON naming the function', async () => {
  const body = await expectJsonError('/up/x', 'bad_gateway');
  assert.equal(body.fn, 'up');
});

test('no orchestrator heartbeat: a cold function gets 503 platform_unavailable', async () => {
  await b.orch.stopHeartbeat();
  const body = await expectJsonError('/down', 'platform_unavailable');
  assert.match(body.message, /heartbeat/);
  await b.orch.startHeartbeat();
});

test('the token is never written into the rendered config nor logged', async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  for (const f of [path.join(gw.prefix, 'conf', 'nginx.conf'), path.join(gw.prefix, 'lua-gen', 'faas_config.lua')]) {
    assert.ok(!fs.readFileSync(f, 'utf8').includes(b.token), f);
  }
  assert.ok(!errorLines.some((l) => l.includes(b.token)));
});

test('redis-rest down: cold functions get 503, warm ones keep their cached state', async () => {
  await b.rest?.close();
  b.rest = undefined;
  await expectJsonError('/down/y', 'platform_unavailable');
  // Still routed (to the dead router), not 503: the last known state stays.
  await expectJsonError('/up/y', 'bad_gateway');
});
