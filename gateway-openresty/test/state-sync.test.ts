/**
 * The state-sync loop survives an error thrown inside a round: a stand-in redis-rest first answers
 * a chunked body whose chunk size is not hex (the HTTP client throws on it), then a good answer.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { freePort } from '@faas/stack';
import { type Gateway, startGateway } from '../src/index';
import { sleep } from './harness';

let server: net.Server;
let gw: Gateway;
let answered = 0;
const errorLines: string[] = [];
const GOOD = JSON.stringify({ rev: 3, functions: { alive: 'warm' } });

before(async () => {
  server = net.createServer((sock) => {
    sock.once('data', () => {
      answered += 1;
      sock.end(answered === 1
        ? 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'
        : `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${GOOD.length}\r\n\r\n${GOOD}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  gw = await startGateway({
    port: await freePort(), workers: 1, redisRestPort: (server.address() as AddressInfo).port, routerPort: await freePort(),
    internalToken: 'state-sync-test-token-0123456789abcdef', syncWaitMs: 100, onLog: (l, s) => { if (s === 'stderr') errorLines.push(l); },
  });
});

after(async () => {
  await gw?.stop();
  await new Promise((r) => server.close(r));
});

test('a round that throws is logged as JSON and the loop goes on to prime the state', async () => {
  const healthz = async () => (await (await fetch(`http://127.0.0.1:${gw.port}/healthz`)).json()) as { primed: boolean; rev: number };
  for (let i = 0; i < 250 && !(await healthz()).primed; i++) await sleep(20);
  assert.deepEqual(await healthz(), { ok: true, primed: true, rev: 3 });
  const thrown = errorLines.find((l) => l.includes('"event":"state_sync_failed"'));
  assert.ok(thrown?.includes('state sync round threw'), errorLines.join('\n'));
  assert.ok(errorLines.some((l) => l.includes('"event":"state_sync_recovered"')));
});
