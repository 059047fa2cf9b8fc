/**
 * npm run bench, warm tiers (issue 11): a wake from each tier (cold: nothing there; paused: a
 * drained instance frozen by docker pause; created: a container pre-created by docker create), median and p99 at the client and per phase over
 * >= 25 wakes each, next to Docker's own floor measured in the same run through the Docker API
 * (unpause of a paused container, start of a created one, create + start of a new one) with
 * the same image and limits, and the ratio of each tier to its floor plus the route ACK.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import { type ColdStartRecord, HEADERS, LABELS, coldStartsKey } from '@faas/contracts';
import { startStack } from '../src/launcher';
import { SANDBOX_POOL, sandboxes } from '../test/helpers';
import { warmTiersDefinitions } from './definitions';
import { fmt, printAndSave, row, summarize } from './stats';

const root = path.resolve(__dirname, '../../..');
const RUNS = Math.max(25, Number(process.env.BENCH_TIER_RUNS ?? 25));
const agent = new http.Agent({ keepAlive: false });

function get(port: number, p: string): Promise<{ status: number; ms: number; tier: string | undefined }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    http.get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - t0) / 1e6, tier: res.headers[HEADERS.wakeTier] as string | undefined }));
    }).on('error', reject);
  });
}

async function until(docker: Docker, stack: string, fn: string, ok: (states: string[]) => boolean): Promise<Docker.ContainerInfo[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${stack}`, `${LABELS.function}=${fn}`] } });
    if (ok(list.map((c) => c.State))) return list;
    if (Date.now() > deadline) throw new Error(`${fn}: containers ${JSON.stringify(list.map((c) => c.State))} did not settle within 60 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

/** The freezer can time out while a process is mid-start or starved ("unable to freeze"): try again. */
async function pauseRetrying(c: Docker.Container): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await c.pause();
      return;
    } catch (err) {
      if (attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

const PORT = { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] };

/**
 * Docker's floor for each tier, with the create options of a real instance (its image, env,
 * limits) and a port of its own; `joined`: create + start inside a running network sandbox
 * (the container the pool keeps ready: `sleep` in the base image, the published port).
 */
async function dockerFloor(docker: Docker, like: string): Promise<Record<'unpause' | 'start' | 'createStart' | 'joined', number[]>> {
  const info = await docker.getContainer(like).inspect();
  const h = info.HostConfig;
  const limits = { Memory: h.Memory, NanoCpus: h.NanoCpus, PidsLimit: h.PidsLimit, ReadonlyRootfs: h.ReadonlyRootfs, Tmpfs: h.Tmpfs, CapDrop: h.CapDrop, SecurityOpt: h.SecurityOpt };
  const base = { Image: info.Config.Image, Env: info.Config.Env, Labels: { 'faas.bench': 'floor' } };
  const opts: Docker.ContainerCreateOptions = { ...base, ExposedPorts: { '8080/tcp': {} }, HostConfig: { ...limits, PortBindings: PORT } };
  const sandboxOpts: Docker.ContainerCreateOptions = {
    Image: BASE_IMAGE, Cmd: ['sleep', '2147483647'], User: '65534:65534', Labels: { 'faas.bench': 'floor' }, ExposedPorts: { '8080/tcp': {} },
    HostConfig: { Memory: 16 * 1024 * 1024, ReadonlyRootfs: true, CapDrop: ['ALL'], PortBindings: PORT },
  };
  const out = { unpause: [] as number[], start: [] as number[], createStart: [] as number[], joined: [] as number[] };
  const made: Docker.Container[] = [];
  try {
    const running = await docker.createContainer(opts);
    made.push(running);
    await running.start();
    for (let i = 0; i < RUNS; i += 1) {
      await pauseRetrying(running);
      const t0 = process.hrtime.bigint();
      await running.unpause();
      out.unpause.push(ms(t0));
    }
    for (let i = 0; i < RUNS; i += 1) {
      const created = await docker.createContainer(opts);
      made.push(created);
      const t0 = process.hrtime.bigint();
      await created.start();
      out.start.push(ms(t0));
      const t1 = process.hrtime.bigint();
      const fresh = await docker.createContainer(opts);
      made.push(fresh);
      await fresh.start();
      out.createStart.push(ms(t1));
      const sandbox = await docker.createContainer(sandboxOpts);
      made.push(sandbox);
      await sandbox.start();
      const t2 = process.hrtime.bigint();
      const joined = await docker.createContainer({ ...base, HostConfig: { ...limits, NetworkMode: `container:${sandbox.id}` } });
      made.push(joined);
      await joined.start();
      out.joined.push(ms(t2));
      await Promise.all([created, fresh, joined].map((c) => c.remove({ force: true })));
      await sandbox.remove({ force: true });
    }
  } finally {
    await Promise.all(made.map((c) => c.remove({ force: true }).catch(() => undefined /* already removed above */)));
  }
  return out;
}

const line = (name: string, samples: readonly number[]) => row(name, samples, 40);
const BASE_IMAGE = process.env.FAAS_BASE_IMAGE ?? 'faas-node-base:local';
/** A wake from nothing is measured with the platform at rest: its network sandboxes made again. */
async function sandboxesReady(stack: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const running = (await sandboxes(stack)).filter((c) => c.State === 'running').length;
    if (running >= SANDBOX_POOL) return;
    if (Date.now() > deadline) throw new Error(`${running} of ${SANDBOX_POOL} network sandboxes ready after 60 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  const docker = new Docker();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-bench-tiers-'));
  const defs = warmTiersDefinitions(dir);
  const stackId = `bench-tiers-${process.pid}`;
  const logLines: string[] = [];
  const stack = await startStack({
    root, stack: stackId, definitionsFile: defs, sink: (c, l) => logLines.push(`${c} ${l}`),
    orchestratorEnv: { FAAS_STATS_INTERVAL_MS: '50', FAAS_GATEWAY_GRACE_MS: '50' },
    env: { STANDIN_ACCESS_LOG: '0' },
  }).catch((err: unknown) => {
    process.stderr.write(`${logLines.slice(-20).join('\n')}\n`);
    throw err;
  });
  const redis = new Redis(stack.redisUrl);
  try {
    const gw = stack.ports.gateway;
    const client: Record<'cold' | 'paused' | 'created', number[]> = { cold: [], paused: [], created: [] };
    // Paused first: one cold start, then each wake finds the instance frozen again.
    for (const [tier, name, settled] of [
      ['paused', 'tier-paused', (s: string[]) => s.length === 1 && s[0] === 'paused'],
      ['created', 'tier-created', (s: string[]) => s.length === 1 && s[0] === 'created'],
      ['cold', 'tier-cold', (s: string[]) => s.length === 0],
    ] as const) {
      const first = await get(gw, `/${name}`);
      if (first.status !== 200) throw new Error(`${name} answered ${first.status}`);
      for (let i = 0; i < RUNS; i += 1) {
        await until(docker, stackId, name, settled);
        if (tier !== 'paused') await sandboxesReady(stackId);
        const r = await get(gw, `/${name}`);
        if (r.status !== 200 || r.tier !== tier) throw new Error(`${name} wake ${i}: status ${r.status}, tier ${String(r.tier)}`);
        client[tier].push(r.ms);
        process.stderr.write(`${tier} ${i + 1}/${RUNS}: ${fmt(r.ms)} ms\n`);
      }
    }
    const records = (await redis.lrange(coldStartsKey(stackId), 0, -1)).map((s) => JSON.parse(s) as ColdStartRecord);
    const of = (tier: string) => records.filter((r) => r.tier === tier && r.fn === `tier-${tier}`).slice(0, RUNS);
    const [like] = await until(docker, stackId, 'tier-paused', (s) => s.length === 1 && s[0] === 'paused');
    const floor = await dockerFloor(docker, like!.Id);
    const med = (xs: number[]) => summarize(xs).median;
    const ratio = (tier: number[], fl: number[], ack: number[]) => fmt(med(tier) / (med(fl) + med(ack)));
    const phase = { paused: 'unpause', created: 'start', cold: 'create+start' } as const;
    const floorOf = { paused: floor.unpause, created: floor.start, cold: floor.createStart } as const;
    const recs = { paused: of('paused'), created: of('created'), cold: of('cold') };
    const lines = [`Warm tiers (${RUNS} wakes per tier, hello function, node runtime; Docker floor measured in the same run)`];
    for (const tier of ['paused', 'created', 'cold'] as const) {
      const r = recs[tier];
      lines.push(
        line(`${tier}: client-observed total`, client[tier]),
        line(`${tier}: phase ${phase[tier]}`, r.map((x) => x.containerStartMs)),
        line(`${tier}: phase readiness`, r.map((x) => x.readinessMs)),
        line(`${tier}: phase route ACK`, r.map((x) => x.routeAckMs)),
        line(`${tier}: orchestrator total`, r.map((x) => x.totalMs)),
      );
    }
    const sandboxed = recs.cold.filter((x) => x.sandboxed).length;
    lines.push(
      `cold wakes that joined a ready network sandbox: ${sandboxed} of ${recs.cold.length}`,
      line('Docker floor: unpause (paused)', floor.unpause),
      line('Docker floor: start (created)', floor.start),
      line('Docker floor: create+start (new)', floor.createStart),
      line('Docker floor: create+start in a sandbox', floor.joined),
    );
    for (const tier of ['paused', 'created', 'cold'] as const) {
      const ack = recs[tier].map((x) => x.routeAckMs);
      lines.push(`ratio ${tier} client / (${phase[tier]} floor + route ACK): ${ratio(client[tier], floorOf[tier], ack)}x; orchestrator total: ${ratio(recs[tier].map((x) => x.totalMs), floorOf[tier], ack)}x`);
    }
    lines.push(
      `ratio cold client / (create+start in a sandbox floor + route ACK): ${ratio(client.cold, floor.joined, recs.cold.map((x) => x.routeAckMs))}x`,
      `targets: paused median <= 30 ms -> ${med(client.paused) <= 30 ? 'MET' : 'NOT MET'}; paused p99 <= 60 ms -> ${summarize(client.paused).p99 <= 60 ? 'MET' : 'NOT MET'}; cold median <= 300 ms -> ${med(client.cold) <= 300 ? 'MET' : 'NOT MET'}`,
    );
    printAndSave(root, 'warm-tiers.json', lines, { client, records: recs, floor });
  } catch (err) {
    process.stderr.write(`${logLines.slice(-40).join('\n')}\n`);
    throw err;
  } finally {
    await Promise.all([redis.quit(), stack.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
