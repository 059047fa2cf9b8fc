/**
 * Autoscaler decision cost (npm run bench:autoscaler): one tick = decideScale for each of 1,000
 * functions, each with a full stable window of 60 one-second samples and a load of its own
 * (steady, noisy, spiking, ramping, idle, stale metrics), the census following the previous
 * decision as a controller's would. The baseline, measured in the same run and interleaved tick
 * by tick, is the cheapest thing a controller must do anyway: copy each function's 60 samples;
 * a second one reads every sample once (the memory any decision over the windows must touch).
 * Prints median and p99 per tick, as wall time and as process CPU time (on a shared machine the
 * wall time includes time the process was not running; CPU time is the cost), and writes
 * .bench/autoscaler.json. Target: median CPU time < 5 ms per tick (p99 shown: it includes GC). Loads are whole request counts,
 * as the routers and runtimes report them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseDefinitions, type ScalingSettings } from '@faas/contracts';
import { decideScale } from '../src/autoscaler/decide';
import { INITIAL_AUTOSCALER_STATE, type AutoscalerState, type DemandSample, type InstanceCensus, type ScaleDecision } from '../src/autoscaler/types';

const FUNCTIONS = 1000;
/** The default stable window (60 s) at the controller's 1 s tick. */
const WINDOW = 60;
/** Enough for V8 to settle its optimised code before anything is counted. */
const WARMUP_TICKS = 200;
const TICKS = 1000;
const TARGET_MS = 5; // issue 8, item 10
const T0 = 1_700_000_000_000;

type Load = (tick: number, fn: number) => number;
const LOADS: { name: string; load: Load }[] = [
  { name: 'steady', load: () => 20 },
  { name: 'noisy', load: (t, f) => 12 + ((t * 7 + f * 13) % 9) },
  { name: 'spiky', load: (t) => (t % 90 < 8 ? 120 : 6) },
  { name: 'ramp', load: (t) => Math.floor((t % 240 < 120 ? t % 120 : 120 - (t % 120)) / 2) },
  { name: 'idle', load: (t) => (t % 400 < 20 ? 3 : 0) },
];

interface Fn {
  settings: ScalingSettings;
  load: Load;
  /** Oldest first; the decision reads back only as far as its stable window. */
  samples: DemandSample[];
  census: InstanceCensus;
  state: AutoscalerState;
  lastActivityAt: number;
  fresh: boolean;
}

/**
 * Settings come from the definition parser, as in the orchestrator: objects built another way
 * (e.g. spread over SCALING_DEFAULTS) have another hidden class and measured up to 6× slower.
 */
function definitionText(): string {
  const lines = ['functions:'];
  for (let i = 0; i < FUNCTIONS; i++) {
    lines.push(`  f${i}:`, '    runtime: node', '    version: "1"', `    code: f${i}`, `    concurrency: ${4 + (i % 8)}`, `    max_instances: ${10 + (i % 20)}`);
    if (i % 3 === 0) lines.push('    scale_down_delay: 10s');
  }
  return `${lines.join('\n')}\n`;
}

function makeFunctions(): Fn[] {
  const defs = parseDefinitions(definitionText(), '/bench/defs.yml');
  return defs.map((def, i) => ({
    settings: def.scaling,
    load: LOADS[i % LOADS.length]!.load,
    samples: [],
    census: { ready: 0, starting: 0, draining: 0 },
    state: INITIAL_AUTOSCALER_STATE,
    lastActivityAt: 0,
    // One function in 50 has stale router metrics, as after a statsd-listener restart.
    fresh: i % 50 !== 0,
  }));
}

/** Outside the timed part: the observation a controller makes before deciding. */
function observe(fns: Fn[], tick: number, f: number): void {
  const fn = fns[f]!;
  const now = T0 + tick * 1000;
  const offered = fn.load(tick, f);
  const capacity = fn.census.ready * fn.settings.targetConcurrency;
  fn.samples.push({ at: now, inflight: Math.min(offered, capacity), pending: fn.fresh ? Math.max(0, offered - capacity) : 0 });
  if (fn.samples.length > WINDOW) fn.samples.shift();
  if (offered > 0) fn.lastActivityAt = now;
}

function decide(fn: Fn, now: number): ScaleDecision {
  return decideScale(fn.settings, {
    now, samples: fn.samples, overflow: 0, noneHealthy: 0, routerMetricsFresh: fn.fresh, lastActivityAt: fn.lastActivityAt,
    waking: fn.census.ready === 0 && fn.lastActivityAt === now ? 1 : 0,
  }, fn.census, fn.state);
}

/** Outside the timed part: the controller applies the decision (instances asked for are ready next tick). */
function apply(fn: Fn, d: ScaleDecision): void {
  fn.state = d.next;
  fn.census = { ready: d.desired, starting: 0, draining: 0 };
}

/** q-quantile by nearest rank. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

function main(): void {
  const fns = makeFunctions();
  const decisionMs: number[] = [];
  const decisionCpuMs: number[] = [];
  const baselineMs: number[] = [];
  const readMs: number[] = [];
  const decisions: ScaleDecision[] = new Array<ScaleDecision>(FUNCTIONS);
  const reasons = new Map<string, number>();
  let copied = 0; // keeps the baselines' work observable so it is not optimised away
  for (let tick = 0; tick < WARMUP_TICKS + TICKS; tick++) {
    const now = T0 + tick * 1000;
    for (let f = 0; f < FUNCTIONS; f++) observe(fns, tick, f);

    const b0 = performance.now();
    for (let f = 0; f < FUNCTIONS; f++) copied += fns[f]!.samples.slice().length;
    const r0 = performance.now();
    for (let f = 0; f < FUNCTIONS; f++) for (const x of fns[f]!.samples) copied += x.at - now + x.inflight + x.pending;
    const r1 = performance.now();
    const b1 = performance.now();
    const c1 = process.cpuUsage();
    for (let f = 0; f < FUNCTIONS; f++) decisions[f] = decide(fns[f]!, now);
    const c2 = process.cpuUsage(c1);
    const b2 = performance.now();

    for (let f = 0; f < FUNCTIONS; f++) {
      const d = decisions[f]!;
      apply(fns[f]!, d);
      if (tick >= WARMUP_TICKS) reasons.set(d.reason, (reasons.get(d.reason) ?? 0) + 1);
    }
    if (tick >= WARMUP_TICKS) {
      baselineMs.push(r0 - b0);
      readMs.push(r1 - r0);
      decisionMs.push(b2 - b1);
      decisionCpuMs.push((c2.user + c2.system) / 1000);
    }
  }
  const dec = [...decisionMs].sort((a, b) => a - b);
  const base = [...baselineMs].sort((a, b) => a - b);
  const cpu = [...decisionCpuMs].sort((a, b) => a - b);
  const read = [...readMs].sort((a, b) => a - b);
  const result = {
    functions: FUNCTIONS, samplesPerFunction: WINDOW, ticks: TICKS, warmupTicks: WARMUP_TICKS,
    decisionMsPerTick: { median: quantile(dec, 0.5), p99: quantile(dec, 0.99), max: dec[dec.length - 1] },
    decisionCpuMsPerTick: { median: quantile(cpu, 0.5), p99: quantile(cpu, 0.99), max: cpu[cpu.length - 1] },
    baselineCopyMsPerTick: { median: quantile(base, 0.5), p99: quantile(base, 0.99), max: base[base.length - 1] },
    baselineReadMsPerTick: { median: quantile(read, 0.5), p99: quantile(read, 0.99), max: read[read.length - 1] },
    ratioMedian: quantile(dec, 0.5) / quantile(base, 0.5),
    ratioToReadMedian: quantile(dec, 0.5) / quantile(read, 0.5),
    targetMs: TARGET_MS, targetMet: quantile(cpu, 0.5) < TARGET_MS,
    loadAverage: os.loadavg(),
    reasons: Object.fromEntries([...reasons].sort((a, b) => b[1] - a[1])),
    node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, at: new Date().toISOString(),
  };
  const ms = (x: number | undefined): string => (x === undefined ? 'n/a' : x.toFixed(3));
  const out = [
    `autoscaler decision cost: ${FUNCTIONS} functions × ${WINDOW} samples, ${TICKS} ticks (after ${WARMUP_TICKS} warm-up)`,
    `${''.padEnd(28)}${'median ms'.padStart(11)}${'p99 ms'.padStart(11)}${'max ms'.padStart(11)}`,
    `${'decideScale × 1,000'.padEnd(28)}${ms(result.decisionMsPerTick.median).padStart(11)}${ms(result.decisionMsPerTick.p99).padStart(11)}${ms(result.decisionMsPerTick.max).padStart(11)}`,
    `${'  same, process CPU time'.padEnd(28)}${ms(result.decisionCpuMsPerTick.median).padStart(11)}${ms(result.decisionCpuMsPerTick.p99).padStart(11)}${ms(result.decisionCpuMsPerTick.max).padStart(11)}`,
    `${'baseline: copy the samples'.padEnd(28)}${ms(result.baselineCopyMsPerTick.median).padStart(11)}${ms(result.baselineCopyMsPerTick.p99).padStart(11)}${ms(result.baselineCopyMsPerTick.max).padStart(11)}`,
    `${'baseline: read the samples'.padEnd(28)}${ms(result.baselineReadMsPerTick.median).padStart(11)}${ms(result.baselineReadMsPerTick.p99).padStart(11)}${ms(result.baselineReadMsPerTick.max).padStart(11)}`,
    `decision / copy (median): ${result.ratioMedian.toFixed(1)}×, decision / read (median): ${result.ratioToReadMedian.toFixed(1)}×`,
    `target: median CPU time < ${TARGET_MS} ms per tick -> ${result.targetMet ? 'MET' : 'NOT MET'} (load average ${result.loadAverage.map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs)`,
    `reasons: ${Object.entries(result.reasons).map(([r, n]) => `${r} ${n}`).join(', ')}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  const root = path.resolve(__dirname, '../../..');
  fs.mkdirSync(path.join(root, '.bench'), { recursive: true });
  fs.writeFileSync(path.join(root, '.bench', 'autoscaler.json'), `${JSON.stringify({ ...result, copiedSamples: copied }, null, 2)}\n`);
  process.stdout.write(`wrote ${path.join(root, '.bench', 'autoscaler.json')}\n`);
}

main();
