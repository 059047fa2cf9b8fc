/** Failure paths: router unreachable, no orchestrator heartbeat, redis-rest down. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type GatewayApiError, createLogger } from '@faas/contracts';
import { type RedisRestServer, startRedisRest } from '@faas/redis-rest';
import { FakeOrchestrator } from '@faas/redis-rest/dist/test/fake-orchestrator';
import { type RedisProcess, freePort, startRedis } from '@faas/stack';
import { type Gateway, startGateway } from '../src/index';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: RedisProcess;
let rest: RedisRestServer | undefined;
let orch: FakeOrchestrator;
let gw: Gateway;
const stack = `gwf-${randomUUID().slice(0, 8)}`;
const url = (p: string) => `http://127.0.0.1:${gw.port}${p}`;

before(async () => {
  redis = await startRedis();
  orch = new FakeOrchestrator(redis.url, stack, { up: { state: 'warm' }, down: { startMs: 100 } });
  await orch.start();
  rest = await startRedisRest({ redisUrl: redis.url, stack, logger: createLogger('redis-rest', {}, () => undefined) });
  // Nothing listens on the router port: every proxied request fails to connect.
  gw = await startGateway({ port: await freePort(), workers: 1, redisRestPort: rest.port, routerPort: await freePort(), wakeTimeoutMs: 2000, onLog: () => undefined });
  for (let i = 0; i < 200; i++) {
    const h = (await (await fetch(url('/healthz'))).json()) as { primed: boolean };
    if (h.primed) break;
    await sleep(20);
  }
});

after(async () => {
  await gw?.stop();
  await rest?.close();
  await orch?.stop();
  await redis?.stop();
});

async function expectJsonError(p: string, status: number, code: string): Promise<GatewayApiError> {
  const res = await fetch(url(p));
  assert.equal(res.status, status, p);
  assert.equal(res.headers.get('content-type'), 'application/json');
  if (status >= 500) assert.ok(res.headers.get('retry-after'), 'Retry-After on 5xx');
  const body = (await res.json()) as GatewayApiError;
  assert.equal(body.error, code);
  return body;
}

test('router unreachable: 502 platform_unavailable JSON', async () => {
  const body = await expectJsonError('/up/x', 502, 'platform_unavailable');
  assert.equal(body.fn, 'up');
});

test('no orchestrator heartbeat: a cold function gets 503 platform_unavailable', async () => {
  await orch.stopHeartbeat();
  await expectJsonError('/down', 503, 'platform_unavailable');
  await orch.startHeartbeat();
});

test('redis-rest down: cold functions get 503, warm ones keep their cached state', async () => {
  await rest?.close();
  rest = undefined;
  await expectJsonError('/down/y', 503, 'platform_unavailable');
  // Still routed (to the dead router), not 503: the last known state stays.
  await expectJsonError('/up/y', 502, 'platform_unavailable');
});
