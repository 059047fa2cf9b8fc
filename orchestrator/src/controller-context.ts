/** What the controller's act modules (scale-up, drain) share: dependencies and the instance set. */
import type { ColdStartRecord, FunctionDefinition, FunctionRouteSpec, FunctionState, InstanceCounts, Logger, WakeTier } from '@faas/contracts';
import type { DecideScale } from './autoscaler/types';
import type { InstanceDriver } from './docker-driver';
import type { FailureRecorder } from './instance-failures';
import type { InstanceSet } from './instance-set';
import type { PlatformMetrics } from './metrics';
import type { RuntimeProbe } from './probe';
import type { WarmPool } from './warm-pool';

/** The part of the xds-server client a controller uses (XdsClient implements it). */
export interface RouterStateClient {
  /** Resolves once every connected router ACKed the function's state. */
  put(spec: FunctionRouteSpec): Promise<unknown>;
}

/** The part of the Redis state store a controller uses (StateStore implements it). */
export interface StatePublisher {
  /** `wakeTier`: the tier whose wake last made the function warm (repeated on every write). */
  set(fn: string, version: string, state: FunctionState, counts: InstanceCounts, wakeTier?: WakeTier): Promise<number>;
  recordColdStart(r: ColdStartRecord): Promise<void>;
}

export interface ControllerDeps {
  driver: InstanceDriver;
  xds: RouterStateClient;
  state: StatePublisher;
  metrics: PlatformMetrics;
  probe: RuntimeProbe;
  decideScale: DecideScale;
  log: Logger;
  /** Resolves the image tag of a definition of this function (built once, memoized by the caller). */
  image: (def: FunctionDefinition) => Promise<string>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  newInstanceId: () => string;
  readinessTimeoutMs: number;
  gatewayGraceMs: number;
  /** Pause between in-flight reads while draining. */
  drainPollMs: number;
  /** Where instance deaths are recorded for waiting clients (instance-failures.ts); absent = only logged. */
  failures?: FailureRecorder;
  /** Remove the function's other images, keeping these tags (image-prune.ts); absent = never pruned. */
  pruneImages?: (fn: string, keepTags: string[]) => Promise<unknown>;
  /** Paused instances of every function under one memory budget (warm-pool.ts). */
  warmPool: WarmPool;
}

export interface ControllerContext {
  readonly def: FunctionDefinition;
  readonly deps: ControllerDeps;
  readonly log: Logger;
  readonly set: InstanceSet;
  /** Send the current router state; resolves when every router ACKed a state including the caller's change. */
  push(): Promise<void>;
  /** `tier`: a wake's instance made the function warm from this tier (x-faas-wake-tier). */
  publish(state: FunctionState, tier?: WakeTier): Promise<void>;
  /** Publish instance counts with the last state (counts changed, state did not). */
  publishCounts(): void;
}
