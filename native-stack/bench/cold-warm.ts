/**
 * npm run bench: cold-start latency split into phases over >= 20 cold starts (Node's hello and
 * Python's py-hello, one after the other on the same stack), and warm latency
 * through the gateway (nginx+Lua -> router -> container) against a direct call to the same
 * container in the same run. Prints median and p99; targets: cold median < 1 s, warm overhead
 * < 2 ms median. The router here is the Envoy stand-in (Envoy cannot be installed on these
 * machines), so warm overhead figures include the stand-in, not Envoy.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import { type ColdStartRecord, LABELS, coldStartsKey } from '@faas/contracts';
import { startStack } from '../src/launcher';
import { fmt, printAndSave, row, summarize } from './stats';
import { hostPortOf } from '../test/helpers';
import { coldWarmDefinitions } from './definitions';

const root = path.resolve(__dirname, '../../..');
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 25);
const WARM_REQUESTS = Number(process.env.BENCH_WARM_REQUESTS ?? 2000);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(port: number, p: string): Promise<{ status: number; ms: number; held: string | undefined }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    http.get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - t0) / 1e6, held: res.headers['x-faas-held-ms'] as string | undefined }));
    }).on('error', reject);
  });
}

async function waitGone(docker: Docker, stack: string, fn: string): Promise<void> {
  for (;;) {
    const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${stack}`, `${LABELS.function}=${fn}`] } });
    if (list.length === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<void> {
  const docker = new Docker();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-bench-'));
  const defs = coldWarmDefinitions(dir);
  const stackId = `bench-${process.pid}`;
  const logLines: string[] = [];
  let stack: Awaited<ReturnType<typeof startStack>>;
  try {
    stack = await startStack({
      root, stack: stackId, definitionsFile: defs, sink: (c, l) => logLines.push(`${c} ${l}`),
      orchestratorEnv: { FAAS_STATS_INTERVAL_MS: '100', FAAS_GATEWAY_GRACE_MS: '50' },
      env: { STANDIN_ACCESS_LOG: '0' },
    });
  } catch (err) {
    // startStack cleans up its own processes; the temp dir and the agent are ours.
    process.stderr.write(`${logLines.slice(-40).join('\n')}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
    agent.destroy();
    throw err;
  }
  const redis = new Redis(stack.redisUrl);
  try {
    const gw = stack.ports.gateway;
    // Cold starts: request, then wait for scale-to-zero, repeat.
    const coldStarts = async (fn: string): Promise<{ client: number[]; held: number[]; records: ColdStartRecord[] }> => {
      const client: number[] = [];
      const held: number[] = [];
      for (let i = 0; i < COLD_RUNS; i += 1) {
        await waitGone(docker, stackId, fn);
        const r = await get(gw, `/${fn}`);
        if (r.status !== 200) throw new Error(`${fn} request ${i} answered ${r.status}`);
        client.push(r.ms);
        held.push(Number(r.held ?? NaN));
        process.stderr.write(`${fn} ${i + 1}/${COLD_RUNS}: ${fmt(r.ms)} ms\n`);
      }
      const records = (await redis.lrange(coldStartsKey(stackId), 0, -1)).map((s) => JSON.parse(s) as ColdStartRecord).filter((r) => r.fn === fn);
      return { client, held, records };
    };
    const node = await coldStarts('cold');
    const { client, held, records } = node;
    const py = await coldStarts('cold-py');

    // Warm: same container, through the gateway and directly.
    const w = await get(gw, '/warm');
    if (w.status !== 200) throw new Error(`warm function answered ${w.status}`);
    const [c] = await docker.listContainers({ filters: { label: [`${LABELS.stack}=${stackId}`, `${LABELS.function}=warm`] } });
    const direct = c ? await hostPortOf(c.Id) : undefined;
    if (!direct) throw new Error('warm container has no published port');
    const viaGw: number[] = [];
    const viaDirect: number[] = [];
    for (let i = 0; i < 200; i += 1) { await get(gw, '/warm'); await get(direct, '/'); } // warm-up
    // Interleaved, so both paths see the same machine noise.
    for (let i = 0; i < WARM_REQUESTS; i += 1) {
      viaGw.push((await get(gw, '/warm')).ms);
      viaDirect.push((await get(direct, '/')).ms);
    }
    const g = summarize(viaGw);
    const d = summarize(viaDirect);
    const lines = [
      `Cold start (${COLD_RUNS} runs, hello function, local base image faas-node-base:local)`,
      row('client-observed total', client),
      row('held at gateway (x-faas-held-ms)', held),
      row('phase: container create+start', records.map((r) => r.containerStartMs)),
      row('phase: readiness (runtime ready)', records.map((r) => r.readinessMs)),
      row('phase: route ACK (all routers)', records.map((r) => r.routeAckMs)),
      row('orchestrator total', records.map((r) => r.totalMs)),
      `target: cold start median < 1000 ms -> ${summarize(client).median < 1000 ? 'MET' : 'NOT MET'}`,
      '',
      `Cold start, Python (${COLD_RUNS} runs, py-hello, local base image faas-python-base:local)`,
      row('client-observed total', py.client),
      row('held at gateway (x-faas-held-ms)', py.held),
      row('phase: container create+start', py.records.map((r) => r.containerStartMs)),
      row('phase: readiness (runtime ready)', py.records.map((r) => r.readinessMs)),
      row('orchestrator total', py.records.map((r) => r.totalMs)),
      '',
      `Warm (${WARM_REQUESTS} sequential keep-alive GETs each, interleaved)`,
      row('via gateway + router (stand-in)', viaGw),
      row('direct to container', viaDirect),
      `overhead median ${fmt(g.median - d.median)} ms, p99 ${fmt(g.p99 - d.p99)} ms; ratio gateway/direct median ${fmt(g.median / d.median)}x`,
      `target: warm overhead median < 2 ms -> ${g.median - d.median < 2 ? 'MET' : 'NOT MET'}`,
    ];
    printAndSave(root, 'cold-warm.json', lines, { client, held, records, python: py, warm: { gateway: g, direct: d } });
  } catch (err) {
    process.stderr.write(`${logLines.slice(-40).join('\n')}\n`);
    throw err;
  } finally {
    await redis.quit();
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    agent.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
