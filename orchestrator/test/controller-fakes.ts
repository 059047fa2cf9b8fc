/** Typed fakes for FunctionController tests: Docker, xds-server, Redis states, runtime probe, clock. */
import { type FunctionDefinition, type FunctionRouteSpec, type FunctionState, type InstanceCounts, type InstanceFailureRecord, type WakeTier, createLogger, definitionWithDefaults } from '@faas/contracts';
import type { DecideScale, ScaleDecision } from '../src/autoscaler/types';
import type { ControllerDeps, RouterStateClient, StatePublisher } from '../src/controller-context';
import type { ExitInfo, InstanceDriver, InstanceSpec, OwnedContainer, RunningInstance } from '../src/docker-driver';
import { FunctionController } from '../src/function-controller';
import type { InstanceStats, RuntimeProbe } from '../src/probe';
import { WarmPool } from '../src/warm-pool';

/** `warm: none`: these tests are about removal; warm-tier.test.ts covers the paused tier. */
export const def: FunctionDefinition = definitionWithDefaults('hello', '/x', {
  concurrency: 4, timeoutMs: 300, scaling: { idleTimeoutMs: 1000, maxInstances: 4, targetConcurrency: 2 }, memoryMb: 64, maxBodyBytes: 1024, warm: 'none',
});

export interface Deferred { promise: Promise<void>; resolve: () => void }
export function deferred(): Deferred {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

export class Harness {
  /** Ordered record of what the controller did: "put:i1=HEALTHY,i2=DRAINING", "ack", "stop:c-i1", "stats:i1=0". */
  readonly events: string[] = [];
  readonly states: FunctionState[] = [];
  /** wakeTier of every state write that carried one. */
  readonly tiers: WakeTier[] = [];
  readonly counts: InstanceCounts[] = [];
  readonly logs: string[] = [];
  readonly puts: FunctionRouteSpec[] = [];
  t = 1_000_000;
  desired = 1;
  /** In-flight figure each instance's runtime reports, by instance id (read in order, last one sticks). */
  inflight = new Map<string, number[]>();
  unreadable = new Set<string>();
  running = new Set<string>();
  oom = new Set<string>();
  /** What the controller recorded for waiting clients (instance-failures.ts). */
  readonly failures: InstanceFailureRecord[] = [];
  /** When set, waitReady waits for it (to observe parallel starts). */
  readyGate: Deferred | undefined;
  startsInFlight = 0;
  maxStartsInFlight = 0;
  failState: FunctionState | undefined;
  /** Image build per definition: `img-<version>`, or the error this returns. */
  buildFails: (d: FunctionDefinition) => Error | undefined = () => undefined;
  paused = new Set<string>();
  /** Pause attempts that fail ("unable to freeze") before one succeeds. */
  pauseFailures = 0;
  /** Containers whose unpause fails (removed behind the orchestrator's back). */
  unpauseFails = new Set<string>();
  /** When set, unpause waits for it (to observe what runs beside a thaw). */
  unpauseGate: Deferred | undefined;
  readonly warmPool: WarmPool;
  onSleep: (ms: number) => void = () => undefined;
  private nextId = 0;
  private nextPort = 40000;
  private readonly ports = new Map<number, string>();

  readonly driver: InstanceDriver = {
    start: async (spec: InstanceSpec): Promise<RunningInstance> => {
      const port = this.nextPort++;
      this.ports.set(port, spec.instanceId);
      const containerId = `c-${spec.instanceId}`;
      this.running.add(containerId);
      this.events.push(`start:${spec.instanceId}`);
      return { instanceId: spec.instanceId, containerId, fn: spec.def.name, version: spec.def.version, address: '127.0.0.1', port };
    },
    create: async (spec: InstanceSpec): Promise<string> => {
      this.events.push(`create:${spec.instanceId}`);
      return `c-${spec.instanceId}`;
    },
    startCreated: async (containerId: string) => {
      const port = this.nextPort++;
      this.ports.set(port, containerId.replace(/^c-/, ''));
      this.running.add(containerId);
      this.events.push(`startCreated:${containerId}`);
      return { address: '127.0.0.1', port };
    },
    stop: async (containerId: string) => {
      this.running.delete(containerId);
      this.paused.delete(containerId);
      this.events.push(`stop:${containerId}`);
    },
    isRunning: async (containerId: string) => this.running.has(containerId),
    pause: async (containerId: string) => {
      if (this.pauseFailures > 0 && this.pauseFailures--) throw new Error('unable to freeze');
      this.paused.add(containerId);
      this.events.push(`pause:${containerId}`);
    },
    unpause: async (containerId: string) => {
      this.events.push(`unpause:${containerId}`);
      await this.unpauseGate?.promise;
      if (this.unpauseFails.has(containerId)) throw new Error('no such container');
      this.events.push(`unpaused:${containerId}`);
      this.paused.delete(containerId);
    },
    exitInfo: async (containerId: string): Promise<ExitInfo> => ({ exitCode: 137, oomKilled: this.oom.has(containerId) }),
    locate: async () => undefined,
    listOwned: async (): Promise<OwnedContainer[]> => [],
    watchExits: async () => () => undefined,
  };

  readonly probe: RuntimeProbe = {
    waitReady: async () => {
      this.startsInFlight += 1;
      this.maxStartsInFlight = Math.max(this.maxStartsInFlight, this.startsInFlight);
      await this.readyGate?.promise;
      this.startsInFlight -= 1;
    },
    readStats: async (_address: string, port: number): Promise<InstanceStats> => {
      const id = this.ports.get(port) ?? '?';
      if (this.unreadable.has(id)) throw new Error('stats timeout');
      const seq = this.inflight.get(id) ?? [0];
      const inflight = seq.length > 1 ? seq.shift()! : seq[0]!;
      this.events.push(`stats:${id}=${inflight}`);
      return { inflight, served: 1, idleMs: inflight > 0 ? 0 : 60_000, ready: true, draining: false };
    },
  };

  readonly xds: RouterStateClient = {
    put: async (spec: FunctionRouteSpec) => {
      this.puts.push(spec);
      this.events.push(`put:${spec.endpoints.map((e) => `${e.id}=${e.health}`).join(',')}`);
      await Promise.resolve();
      this.events.push('ack');
      return {};
    },
  };

  readonly state: StatePublisher = {
    set: async (_fn: string, _v: string, s: FunctionState, c: InstanceCounts, tier?: WakeTier) => {
      if (s === this.failState) throw new Error('redis down');
      if (tier && this.tiers.at(-1) !== tier) this.tiers.push(tier);
      if (this.states.at(-1) !== s) this.states.push(s);
      this.counts.push({ ...c });
      return this.counts.length;
    },
    recordColdStart: async () => undefined,
  };

  readonly decide: DecideScale = (_s, signals, census, state): ScaleDecision => ({
    desired: this.desired, reason: 'stable_demand', panic: false, next: state,
    inputs: { stableDemand: 0, panicDemand: 0, capacityPerInstance: 2, current: census.ready + census.starting, idleMs: signals.now - signals.lastActivityAt },
  });

  deps(): ControllerDeps {
    return {
      driver: this.driver, xds: this.xds, state: this.state, probe: this.probe, decideScale: this.decide,
      metrics: { coldStart: () => undefined, instances: () => undefined, close: async () => undefined },
      log: createLogger('test', {}, (l) => void this.logs.push(l)),
      image: async (d: FunctionDefinition) => {
        const err = this.buildFails(d);
        if (err) throw err;
        return `img-${d.version}`;
      },
      pruneImages: async (fn: string, keep: string[]) => void this.events.push(`prune:${fn}:${keep.join('+')}`),
      now: () => this.t,
      sleep: async (ms: number) => {
        this.t += ms;
        this.onSleep(ms);
        await Promise.resolve();
      },
      newInstanceId: () => `n${++this.nextId}`,
      readinessTimeoutMs: 1000, gatewayGraceMs: 10, drainPollMs: 25, warmPool: this.warmPool,
      failures: { record: async (r) => void this.failures.push(r) },
    };
  }

  constructor(budgetMb = 1024) {
    this.warmPool = new WarmPool(budgetMb);
  }

  /** A controller with `ids` adopted as ready instances. */
  controller(ids: string[] = ['i1'], d: FunctionDefinition = def): FunctionController {
    const ctl = new FunctionController(d, this.deps());
    for (const id of ids) {
      const port = this.nextPort++;
      this.ports.set(port, id);
      this.running.add(`c-${id}`);
      ctl.adopt({ id, containerId: `c-${id}`, address: '127.0.0.1', port });
    }
    return ctl;
  }

  logged(event: string): boolean {
    return this.logs.some((l) => l.includes(`"event":"${event}"`));
  }

  index(event: string, from = 0): number {
    const i = this.events.indexOf(event, from);
    if (i < 0) throw new Error(`event ${event} not recorded: ${this.events.join(' | ')}`);
    return i;
  }
}
