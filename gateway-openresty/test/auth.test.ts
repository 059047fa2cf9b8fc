/** A gateway with the wrong token: redis-rest refuses it, the gateway says so and never primes. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '@faas/stack';
import { type Gateway, startGateway } from '../src/index';
import { type Backends, assertClientError, startBackends, stopBackends } from './harness';

let b: Backends;
let gw: Gateway;
const errorLines: string[] = [];

before(async () => {
  b = await startBackends({ cold: { startMs: 100 } });
  gw = await startGateway({
    port: await freePort(), workers: 1, redisRestPort: b.rest!.port, routerPort: await freePort(),
    internalToken: 'x'.repeat(40), onLog: (l, s) => { if (s === 'stderr') errorLines.push(l); },
  });
});

after(async () => {
  await gw?.stop();
  await stopBackends(b);
});

test('wrong token: the wake is refused (503 platform_unavailable JSON), no wake reaches the orchestrator, state sync logs the 401', async () => {
  const res = await fetch(`http://127.0.0.1:${gw.port}/cold`);
  assertClientError(res.status, res.headers.get('content-type'), await res.text(), 'platform_unavailable');
  assert.equal(b.orch.wakesFor('cold'), 0);
  for (let i = 0; i < 250 && !errorLines.some((l) => l.includes('state_sync_failed') && l.includes('unauthorized')); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(errorLines.some((l) => l.includes('state_sync_failed') && l.includes('unauthorized')), errorLines.join('\n'));
  assert.equal(((await (await fetch(`http://127.0.0.1:${gw.port}/healthz`)).json()) as { primed: boolean }).primed, false);
});
