/**
 * xDS benchmark (npm run bench:xds):
 *  1. Rollout latency: HTTP PUT with wait -> every connected router ACKed, with 1, 10 and 50
 *     lightweight Envoy-like SotW ADS clients (wildcard, ACK everything), for two kinds of
 *     update: "scale" (1 <-> 2 HEALTHY endpoints: cluster + endpoints change) and "add" (a new
 *     function: CDS -> EDS -> ACK -> RDS, make before break). Plus 10 SotW clients with 2
 *     real @grpc/grpc-js-xds channels mixed in.
 *  2. A 1,000-function snapshot: pure build time and heap, and the push to 10 clients
 *     (time until every client holds 1,000 clusters, CLAs and the 2,000-route config).
 * Prints median/p99 tables and writes .bench/xds.json. Targets: < 50 ms ACK at 10 clients,
 * 1,000-function push < 1 s. The SotW clients run in a worker thread (their own event loop,
 * like a separate Envoy process); the grpc-js-xds channels run in the main thread.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type { FunctionRouteSpec } from '@faas/contracts';
import { buildSnapshot } from '../src/snapshot';
import { Worker } from 'node:worker_threads';
import { GrpcJsXdsClient, eventually, spec, startTestServer, type TestServer } from '../test/helpers/harness';

const ROUNDS = Number(process.env.XDS_BENCH_ROUNDS ?? 30);
const WARMUP = 3;
const BIG = 1000;

interface Summary { n: number; median: number; p99: number; min: number; max: number; mean: number }

function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
  return { n: s.length, median: q(0.5), p99: q(0.99), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, mean: s.reduce((a, b) => a + b, 0) / (s.length || 1) };
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 1) : 'n/a');

const gc: () => void = (() => {
  v8.setFlagsFromString('--expose_gc');
  const f = vm.runInNewContext('gc') as (() => void) | undefined;
  return typeof f === 'function' ? f : () => undefined;
})();

/** heapMB counts JS heap plus Buffers (encoded resources live outside the JS heap). */
function mem(): { heapMB: number; rssMB: number } {
  gc();
  const m = process.memoryUsage();
  return { heapMB: (m.heapUsed + m.external) / 1048576, rssMB: m.rss / 1048576 };
}

function ep(i: number, port: number): FunctionRouteSpec['endpoints'][number] {
  return { id: `i${i}-${port}`, address: `10.${(i >> 8) & 255}.${i & 255}.${port % 250}`, port, health: 'HEALTHY' };
}

function bigSpecs(n: number): FunctionRouteSpec[] {
  return Array.from({ length: n }, (_, i) => spec(`f${i}`, [ep(i, 8080), ep(i, 8081)], { concurrency: 4, timeoutMs: 30_000 }));
}

/** N SotW clients in a worker thread (own event loop, like a separate Envoy process). */
class ClientPool {
  private constructor(private readonly worker: Worker) {}

  static async start(srv: TestServer, n: number, tag: string): Promise<ClientPool> {
    const worker = new Worker(path.join(__dirname, 'client-worker.js'));
    const pool = new ClientPool(worker);
    worker.postMessage({ op: 'start', grpcPort: srv.handle.grpcPort, n, tag });
    await pool.reply();
    return pool;
  }

  private reply(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onMsg = (m: { op: string; message?: string }): void => {
        this.worker.off('error', onErr);
        if (m.op === 'error') reject(new Error(m.message));
        else resolve();
      };
      const onErr = (err: Error): void => {
        this.worker.off('message', onMsg);
        reject(err);
      };
      this.worker.once('message', onMsg);
      this.worker.once('error', onErr);
    });
  }

  /** Resolve when every client holds exactly these counts. */
  wait(clusters: number, endpoints: number, routes: number, timeoutMs = 30_000): Promise<void> {
    const p = this.reply();
    this.worker.postMessage({ op: 'wait', clusters, endpoints, routes, timeoutMs });
    return p;
  }

  async close(): Promise<void> {
    this.worker.postMessage({ op: 'close' });
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    const t = setTimeout(() => void this.worker.terminate(), 3000);
    await exited;
    clearTimeout(t);
  }
}

async function timedPut(srv: TestServer, s: FunctionRouteSpec): Promise<number> {
  const t0 = performance.now();
  await srv.control.putOk(s, 30_000);
  return performance.now() - t0;
}

interface RolloutRow { clients: string; kind: string; summary: Summary }

async function rolloutSeries(srv: TestServer, label: string, expectRouters: number): Promise<RolloutRow[]> {
  await eventually(async () => {
    const r = await srv.control.routers();
    return (r.body as { routers: unknown[] }).routers.length >= expectRouters;
  }, 15_000, `${expectRouters} routers connected`);
  const rows: RolloutRow[] = [];
  // scale: 1 <-> 2 HEALTHY endpoints (cluster circuit breakers and CLA both change).
  const scale: number[] = [];
  for (let i = 0; i < ROUNDS + WARMUP; i++) {
    const eps = i % 2 === 0 ? [ep(1, 9000 + i)] : [ep(1, 9000 + i), ep(2, 9100 + i)];
    const ms = await timedPut(srv, spec('bench', eps, { concurrency: 4 }));
    if (i >= WARMUP) scale.push(ms);
  }
  rows.push({ clients: label, kind: 'scale', summary: summarize(scale) });
  // add: a new function each round (CDS -> EDS -> ACK -> RDS), removed again untimed.
  const add: number[] = [];
  for (let i = 0; i < ROUNDS + WARMUP; i++) {
    const name = `add${i}`;
    const ms = await timedPut(srv, spec(name, [ep(3, 9200 + i)], { concurrency: 4 }));
    if (i >= WARMUP) add.push(ms);
    await srv.control.delOk(name, 30_000);
  }
  rows.push({ clients: label, kind: 'add', summary: summarize(add) });
  return rows;
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { rounds: ROUNDS, node: process.version, at: new Date().toISOString() };
  const rows: RolloutRow[] = [];

  // ---- 0. 1,000-function snapshot build (pure), first cold (protobufjs builds its codecs
  // lazily on first use), then warm from scratch, then incremental with one change ----
  const specs = bigSpecs(BIG);
  const bopts = { epoch: 'bench', routerAddress: '0.0.0.0', routerPort: 10000 };
  const tc = performance.now();
  buildSnapshot(specs.map((s) => ({ ...s, timeoutMs: 1000 })), bopts);
  const coldBuildMs = performance.now() - tc;
  const m0 = mem();
  const tb = performance.now();
  const snap = buildSnapshot(specs, bopts);
  const buildMs = performance.now() - tb;
  const m1 = mem();
  const tr = performance.now();
  buildSnapshot(specs.map((s, i) => (i === 0 ? { ...s, timeoutMs: 1234 } : s)), bopts, snap);
  const rebuildOneMs = performance.now() - tr;
  const build = { functions: BIG, coldBuildMs, buildMs, rebuildOneChangedMs: rebuildOneMs, heapDeltaMB: m1.heapMB - m0.heapMB, rssDeltaMB: m1.rssMB - m0.rssMB };

  // ---- 1. rollout latency ----
  for (const n of [1, 10, 50]) {
    const srv = await startTestServer();
    const pool = await ClientPool.start(srv, n, `c${n}`);
    try {
      rows.push(...(await rolloutSeries(srv, `${n} sotw`, n)));
    } finally {
      await pool.close();
      await srv.handle.close();
    }
  }
  {
    const srv = await startTestServer();
    // A routed function from the start, so the gRPC clients' first route config is not empty.
    await srv.control.put(spec('seed', [ep(9, 7000)], { concurrency: 4 }), 10);
    const pool = await ClientPool.start(srv, 10, 'mix');
    const gjs = [new GrpcJsXdsClient(srv.handle.grpcPort, 'bench-gjs-0'), new GrpcJsXdsClient(srv.handle.grpcPort, 'bench-gjs-1')];
    for (const g of gjs) g.connect();
    try {
      rows.push(...(await rolloutSeries(srv, '10 sotw + 2 grpc-js-xds', 12)));
    } finally {
      for (const g of gjs) g.close();
      await pool.close();
      await srv.handle.close();
    }
  }
  results.rollout = rows.map((r) => ({ clients: r.clients, kind: r.kind, ...r.summary }));

  // ---- 2. 1,000-function snapshot: build, then push ----
  const push: Record<string, unknown> = {};
  {
    const snapshots: { functions: number; buildMs: number }[] = [];
    const srv = await startTestServer({ onEvent: (e) => { if (e.kind === 'snapshot') snapshots.push({ functions: e.functions, buildMs: e.buildMs }); } });
    const pool = await ClientPool.start(srv, 10, 'big');
    try {
      const p0 = mem();
      const t0 = performance.now();
      // Programmatic path: the control plane batches the queued updates into one snapshot.
      await Promise.all(specs.map((s) => srv.handle.controlPlane.update(s.name, s)));
      const queuedMs = performance.now() - t0;
      await pool.wait(BIG, BIG, 2 * BIG);
      const allHeldMs = performance.now() - t0;
      await srv.handle.controlPlane.waitForRollout(specs[BIG - 1]!.name, 30_000);
      const ackedMs = performance.now() - t0;
      const pushSnapshots = snapshots.filter((x) => x.functions > 1);
      const p1 = mem();
      const serverBuildMs = pushSnapshots.reduce((a, x) => a + x.buildMs, 0);
      // Same through HTTP: one more PUT with wait on top of 1,000 functions.
      const httpOne: number[] = [];
      for (let i = 0; i < 10; i++) httpOne.push(await timedPut(srv, spec('f0', [ep(0, 8080 + (i % 2)), ep(0, 8090)], { concurrency: 4, timeoutMs: 30_000 })));
      Object.assign(push, {
        functions: BIG, clients: 10, snapshotQueuedMs: queuedMs, serverSnapshotBuildMs: serverBuildMs, snapshots: pushSnapshots.length, allClientsHoldMs: allHeldMs, allAckedMs: ackedMs,
        heapDeltaMB: p1.heapMB - p0.heapMB, rssDeltaMB: p1.rssMB - p0.rssMB,
        putOneWith1000: summarize(httpOne),
      });
    } finally {
      await pool.close();
      await srv.handle.close();
    }
  }
  results.snapshot1000 = { build, push };

  // ---- report ----
  const out: string[] = [];
  out.push(`xDS rollout: HTTP PUT with wait -> ACK by every router (${ROUNDS} rounds, ms)`);
  out.push(`${'clients'.padEnd(26)}${'update'.padEnd(8)}${'median'.padStart(9)}${'p99'.padStart(9)}${'min'.padStart(9)}${'max'.padStart(9)}`);
  for (const r of rows) out.push(`${r.clients.padEnd(26)}${r.kind.padEnd(8)}${fmt(r.summary.median).padStart(9)}${fmt(r.summary.p99).padStart(9)}${fmt(r.summary.min).padStart(9)}${fmt(r.summary.max).padStart(9)}`);
  const ten = rows.filter((r) => r.clients === '10 sotw');
  const tenOk = ten.every((r) => r.summary.median < 50);
  out.push(`target: median ACK < 50 ms at 10 clients -> ${tenOk ? 'MET' : 'NOT MET'} (${ten.map((r) => `${r.kind} ${fmt(r.summary.median)}`).join(', ')})`);
  out.push('');
  out.push(`1,000-function snapshot`);
  out.push(`  build (pure), cold           ${fmt(build.coldBuildMs)} ms (first use of the proto codecs)`);
  out.push(`  build (pure), warm           ${fmt(build.buildMs)} ms, heap+buffers +${fmt(build.heapDeltaMB)} MB, rss +${fmt(build.rssDeltaMB)} MB`);
  out.push(`  rebuild, 1 function changed  ${fmt(build.rebuildOneChangedMs)} ms`);
  out.push(`  server snapshot build+reconcile in the push: ${fmt(push.serverSnapshotBuildMs as number)} ms over ${String(push.snapshots)} snapshot(s)`);
  out.push(`  push to 10 clients: all hold ${fmt(push.allClientsHoldMs as number)} ms, all ACKed ${fmt(push.allAckedMs as number)} ms, heap+buffers +${fmt(push.heapDeltaMB as number)} MB, rss +${fmt(push.rssDeltaMB as number)} MB`);
  const po = push.putOneWith1000 as Summary;
  out.push(`  PUT one function on top of 1,000 (10 clients): median ${fmt(po.median)} ms, p99 ${fmt(po.p99)} ms`);
  out.push(`target: 1,000-function push < 1 s -> ${(push.allAckedMs as number) < 1000 ? 'MET' : 'NOT MET'}`);
  process.stdout.write(`${out.join('\n')}\n`);

  const root = path.resolve(__dirname, '../../..');
  fs.mkdirSync(path.join(root, '.bench'), { recursive: true });
  fs.writeFileSync(path.join(root, '.bench', 'xds.json'), JSON.stringify(results, null, 2));
  process.stdout.write(`wrote ${path.join(root, '.bench', 'xds.json')}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`xds bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
