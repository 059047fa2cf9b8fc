/**
 * npm run bench:scale: scale-up reaction time (load start -> second instance ready, i.e. every
 * router ACKed its endpoint; target <= 2 s), requests lost across a full ramp up and down to
 * zero (target 0), and p99 latency during a ramp against the same ramp on a fixed pool of max
 * instances (min_instances = max_instances; target within 1.5x). One native stack, one run;
 * prints median/p99 and writes .bench/scale.json. The router is the Envoy stand-in.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { startStack } from '../src/launcher';
import { containers, root } from '../test/helpers';
import { type Sample, instanceTotal, startRamp, stateRecord, upAndDown, waitUntil } from '../test/ramp-load';
import { scaleDefinitions } from './definitions';
import { fmt, summarize } from './stats';

const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 3);
const PEAK = Number(process.env.BENCH_SCALE_PEAK ?? 8);
const STEP_MS = Number(process.env.BENCH_SCALE_STEP_MS ?? 1000);
const MAX = 4;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-bench-scale-'));
  const stackId = `bench-scale-${process.pid}`;
  // Orchestrator decisions, to split the reaction into "load start -> decision" and "decision -> ready".
  const decisions: { at: number; fn: string; desired: number; trigger: string }[] = [];
  // Phases of instances started under load (scale-up.ts's scale_up_instance_ready), to split "decision -> ready".
  const starts: { at: number; fn: string; containerStartMs: number; readinessMs: number; routeAckMs: number; totalMs: number }[] = [];
  const logFile = process.env.BENCH_LOG_FILE;
  const sink = (component: string, line: string): void => {
    if (logFile) fs.appendFileSync(logFile, `${line}\n`);
    if (component !== 'orchestrator') return;
    if (line.includes('"event":"scale_decision"')) {
      const d = JSON.parse(line) as { fn?: string; desired?: number; trigger?: string };
      decisions.push({ at: performance.now(), fn: d.fn ?? '', desired: d.desired ?? 0, trigger: d.trigger ?? 'wake' });
    } else if (line.includes('"event":"scale_up_instance_ready"')) {
      const r = JSON.parse(line) as { fn?: string; containerStartMs?: number; readinessMs?: number; routeAckMs?: number; totalMs?: number };
      starts.push({ at: performance.now(), fn: r.fn ?? '', containerStartMs: r.containerStartMs ?? NaN, readinessMs: r.readinessMs ?? NaN, routeAckMs: r.routeAckMs ?? NaN, totalMs: r.totalMs ?? NaN });
    }
  };
  const stack = await startStack({
    root, stack: stackId, wakeTimeoutMs: 30_000, sink,
    definitionsFile: scaleDefinitions(dir, MAX),
  });
  const redis = new Redis(stack.redisUrl);
  const url = (fn: string) => `http://127.0.0.1:${stack.ports.gateway}/${fn}?ms=300`;
  const rec = (fn: string) => stateRecord(redis, stackId, fn);
  const ready = async (fn: string) => (await rec(fn))?.instances?.ready ?? 0;
  try {
    // Reaction: from one warm instance, a step of PEAK clients until a second instance is ready.
    const reaction: number[] = [];
    const toDecision: number[] = [];
    const triggers: string[] = [];
    const phases: (typeof starts)[number][] = [];
    for (let i = 0; i < RUNS; i++) {
      const warm = await fetch(url('auto'));
      if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}`);
      await waitUntil(async () => instanceTotal(await rec('auto')) === 1 && (await ready('auto')) === 1, 60_000, () => 'auto at one instance');
      const t0 = performance.now();
      const load = startRamp(url('auto'), [PEAK], 60_000);
      await waitUntil(async () => (await ready('auto')) >= 2, 30_000, () => 'second instance ready');
      reaction.push(performance.now() - t0);
      const first = decisions.find((d) => d.fn === 'auto' && d.at >= t0 && d.desired >= 2);
      if (first !== undefined) {
        toDecision.push(first.at - t0);
        triggers.push(first.trigger);
      }
      const second = starts.find((x) => x.fn === 'auto' && x.at >= t0);
      if (second !== undefined) phases.push(second);
      await load.stop();
    }
    // Full ramp up and down, then to zero, on the autoscaled function.
    await waitUntil(async () => instanceTotal(await rec('auto')) === 1, 60_000, () => 'auto back to one instance');
    const auto = startRamp(url('auto'), upAndDown(PEAK), STEP_MS);
    await auto.done;
    await waitUntil(async () => (await rec('auto'))?.state === 'cold' && (await containers(stackId, 'auto')).length === 0, 60_000, () => 'auto at zero');
    // The same ramp on a fixed pool of MAX instances.
    await fetch(url('fixed'));
    await waitUntil(async () => (await ready('fixed')) === MAX, 60_000, () => `fixed pool of ${MAX} ready`);
    const fixed = startRamp(url('fixed'), upAndDown(PEAK), STEP_MS);
    await fixed.done;

    const lost = (s: Sample[]) => s.filter((x) => x.status !== 200).length;
    const lat = (s: Sample[]) => summarize(s.filter((x) => x.status === 200).map((x) => x.ms));
    const r = summarize(reaction);
    const dd = summarize(toDecision);
    const a = lat(auto.samples);
    const f = lat(fixed.samples);
    const ratio = a.p99 / f.p99;
    console.log(`scale-up reaction (load start -> 2nd instance ready) n=${r.n} median=${fmt(r.median)} ms p99=${fmt(r.p99)} ms (target <= 2000 ms)`);
    console.log(`  of which load start -> first decision for >= 2 instances: median=${fmt(dd.median)} ms p99=${fmt(dd.p99)} ms (triggers: ${triggers.join(', ')})`);
    const phase = (k: 'containerStartMs' | 'readinessMs' | 'routeAckMs' | 'totalMs') => fmt(summarize(phases.map((x) => x[k])).median);
    console.log(`  start of the new instance, medians: total ${phase('totalMs')} ms = container create+start ${phase('containerStartMs')} + readiness ${phase('readinessMs')} + router ACK ${phase('routeAckMs')} ms`);
    console.log(`ramp 1->${PEAK}->1 clients, autoscaled: ${auto.samples.length} requests, lost ${lost(auto.samples)} (target 0), latency median=${fmt(a.median)} ms p99=${fmt(a.p99)} ms`);
    console.log(`same ramp, fixed pool of ${MAX}:       ${fixed.samples.length} requests, lost ${lost(fixed.samples)}, latency median=${fmt(f.median)} ms p99=${fmt(f.p99)} ms`);
    console.log(`p99 autoscaled / fixed = ${ratio.toFixed(2)}x (target <= 1.5x)`);
    // Where the tail comes from: requests slower than 1.5x the fixed pool's p99, by ramp step.
    const slowBound = f.p99 * 1.5;
    const slowBySteps = (smp: Sample[]) => upAndDown(PEAK).map((clients, i) => ({ step: i, clients, slow: smp.filter((x) => x.status === 200 && x.ms > slowBound && Math.floor(x.at / STEP_MS) === i).length }));
    const slow = { autoscaled: slowBySteps(auto.samples), fixed: slowBySteps(fixed.samples) };
    const line = (r: { clients: number; slow: number }[]) => r.map((x) => `${x.clients}:${x.slow}`).join(' ');
    console.log(`requests over ${fmt(slowBound)} ms by step (clients:count): autoscaled ${line(slow.autoscaled)}; fixed ${line(slow.fixed)}`);
    fs.mkdirSync(path.join(root, '.bench'), { recursive: true });
    fs.writeFileSync(path.join(root, '.bench', 'scale.json'), JSON.stringify({
      settings: { runs: RUNS, peakClients: PEAK, stepMs: STEP_MS, maxInstances: MAX, concurrency: 2, sleepMs: 300 },
      reactionMs: { samples: reaction, ...r },
      toDecisionMs: { samples: toDecision, triggers, ...dd },
      startPhases: phases,
      ramp: { autoscaled: { requests: auto.samples.length, lost: lost(auto.samples), latency: a }, fixed: { requests: fixed.samples.length, lost: lost(fixed.samples), latency: f } },
      p99Ratio: ratio,
      slowBySteps: { boundMs: slowBound, ...slow },
    }, null, 2));
  } finally {
    redis.disconnect();
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
