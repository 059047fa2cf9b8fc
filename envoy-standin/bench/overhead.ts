/**
 * Warm overhead of the stand-in: the same small GET straight to a function server and
 * through the stand-in (config from the real xds-server), sequential on keep-alive
 * connections. Prints median/p99 of both and the difference. Run:
 *   node envoy-standin/dist/bench/overhead.js [requests]
 */
import * as http from 'node:http';
import { freePort } from '@faas/stack';
import { startXdsServer } from '@faas/xds-server';
import { startEnvoyStandin } from '../src/index';
import { BOOTSTRAP, TEST_TOKEN, putFunction, quietLogger, startUpstream } from '../test/helpers';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
  });
}

async function measure(port: number, path: string, n: number): Promise<number[]> {
  for (let i = 0; i < 200; i++) await get(port, path); // warm-up
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await get(port, path);
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 3000);
  const up = await startUpstream('bench');
  const routerPort = await freePort();
  const xds = await startXdsServer({ host: '127.0.0.1', grpcPort: 0, httpPort: 0, routerAddress: '127.0.0.1', routerPort, logger: quietLogger, internalToken: TEST_TOKEN });
  const standin = await startEnvoyStandin({
    bootstrapPath: BOOTSTRAP, xdsAddress: `127.0.0.1:${xds.grpcPort}`, statsdAddress: `127.0.0.1:${await freePort()}`,
    bindAddress: '127.0.0.1', nodeId: 'bench', logger: quietLogger,
  });
  try {
    await standin.waitForListener();
    await putFunction(xds.httpPort, { name: 'bench', timeoutMs: 5000, concurrency: 8, endpoints: [{ id: 'b', address: '127.0.0.1', port: up.port, health: 'HEALTHY' }] });
    const direct = await measure(up.port, '/x', n);
    const via = await measure(routerPort, '/bench/x', n);
    const f = (x: number) => x.toFixed(3);
    console.log(`direct      median ${f(q(direct, 0.5))} ms  p99 ${f(q(direct, 0.99))} ms  (n=${n})`);
    console.log(`via standin median ${f(q(via, 0.5))} ms  p99 ${f(q(via, 0.99))} ms`);
    console.log(`overhead    median ${f(q(via, 0.5) - q(direct, 0.5))} ms  p99 ${f(q(via, 0.99) - q(direct, 0.99))} ms`);
  } finally {
    await standin.close();
    await xds.close();
    await up.close();
    agent.destroy();
  }
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
