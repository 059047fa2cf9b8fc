/**
 * npm run bench:rollout: version rollouts of a warm function under continuous load (native
 * stack, the router is the Envoy stand-in). Each run rewrites the definition file with the next
 * version and sends the orchestrator SIGHUP, then measures:
 * - switch: SIGHUP -> rollout_switched (image built, new instances ready, the one router push
 *   ACKed by every router: from then on every new request goes to the new version), split into
 *   the build (SIGHUP -> rollout_begin) and the rest (new instances ready + the switch push);
 * - first new response: SIGHUP -> the first response of the new version at a client;
 * - done: SIGHUP -> rollout_done (the old instances drained and stopped);
 * - failed requests during the run (target 0).
 * Prints median/p99 over BENCH_ROLLOUT_RUNS (5) and writes .bench/rollout.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LABELS } from '@faas/contracts';
import { startStack } from '../src/launcher';
import { containers, root } from '../test/helpers';
import { versionLoad } from '../test/version-load';
import { rolloutDefinitions } from './definitions';
import { fmt, summarize } from './stats';

const RUNS = Number(process.env.BENCH_ROLLOUT_RUNS ?? 5);
const CLIENTS = Number(process.env.BENCH_ROLLOUT_CLIENTS ?? 6);

async function until(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-bench-rollout-'));
  const stackId = `bench-roll-${process.pid}`;
  // When the orchestrator logged each rollout event, by target version.
  const events = new Map<string, number>();
  const sink = (component: string, line: string): void => {
    if (component !== 'orchestrator') return;
    const m = /"event":"(rollout_begin|rollout_switched|rollout_done|rollout_failed)"/.exec(line);
    const to = /"to":"([^"]+)"/.exec(line);
    if (m && to && line.includes('"fn":"ver"')) events.set(`${m[1]}:${to[1]}`, performance.now());
  };
  const stack = await startStack({ root, stack: stackId, wakeTimeoutMs: 60_000, sink, definitionsFile: rolloutDefinitions(dir, '1') });
  const url = `http://127.0.0.1:${stack.ports.gateway}/ver?ms=20`;
  const switchMs: number[] = [];
  const buildMs: number[] = [];
  const firstMs: number[] = [];
  const doneMs: number[] = [];
  const failed: number[] = [];
  let requests = 0;
  try {
    const warm = await fetch(url);
    if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}`);
    for (let i = 0; i < RUNS; i++) {
      const version = String(i + 2);
      const load = versionLoad(url, CLIENTS);
      await until('load flowing', 10_000, () => load.seen.length > 50);
      rolloutDefinitions(dir, version);
      const t0 = performance.now();
      process.kill(stack.pid('orchestrator')!, 'SIGHUP');
      await until(`v${version} switched`, 120_000, () => {
        if (events.has(`rollout_failed:${version}`)) throw new Error(`rollout to v${version} failed`);
        return events.has(`rollout_switched:${version}`);
      });
      await until(`v${version} done`, 60_000, () => events.has(`rollout_done:${version}`));
      await until(`only v${version} containers`, 30_000, async () => (await containers(stackId, 'ver')).every((c) => c.Labels[LABELS.version] === version));
      const seen = load.seen.length;
      await until('requests after the rollout', 10_000, () => load.seen.length > seen + 20);
      await load.stop();
      const first = load.seen.findIndex((v) => v === version);
      switchMs.push(events.get(`rollout_switched:${version}`)! - t0);
      buildMs.push(events.get(`rollout_begin:${version}`)! - t0);
      doneMs.push(events.get(`rollout_done:${version}`)! - t0);
      if (first >= 0) firstMs.push(load.at[first]! - t0);
      failed.push(load.failures.length);
      requests += load.seen.length + load.failures.length;
      const late = load.seen.slice(seen).filter((v) => v !== version).length;
      console.log(`run ${i + 1}: v${version} switch ${fmt(switchMs.at(-1)!)} ms, done ${fmt(doneMs.at(-1)!)} ms, failed ${load.failures.length} of ${load.seen.length + load.failures.length}, old answers after done ${late}`);
    }
  } finally {
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const s = summarize(switchMs);
  const b = summarize(buildMs);
  const rest = summarize(switchMs.map((x, k) => x - buildMs[k]!));
  const f = summarize(firstMs);
  const d = summarize(doneMs);
  const totalFailed = failed.reduce((a, b) => a + b, 0);
  console.log(`rollout (SIGHUP -> new version takes every new request) n=${s.n} median=${fmt(s.median)} ms p99=${fmt(s.p99)} ms`);
  console.log(`  of which image build (SIGHUP -> rollout_begin): median=${fmt(b.median)} ms p99=${fmt(b.p99)} ms; new instances ready + switch push ACKed: median=${fmt(rest.median)} ms p99=${fmt(rest.p99)} ms`);
  console.log(`  SIGHUP -> first new-version response at a client: median=${fmt(f.median)} ms p99=${fmt(f.p99)} ms`);
  console.log(`  SIGHUP -> old instances drained and stopped: median=${fmt(d.median)} ms p99=${fmt(d.p99)} ms`);
  console.log(`requests failed during rollouts: ${totalFailed} of ${requests} (${CLIENTS} clients; target 0)`);
  fs.mkdirSync(path.join(root, '.bench'), { recursive: true });
  fs.writeFileSync(path.join(root, '.bench', 'rollout.json'), `${JSON.stringify({ runs: RUNS, clients: CLIENTS, switchMs, buildMs, firstMs, doneMs, failed, requests }, null, 2)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
