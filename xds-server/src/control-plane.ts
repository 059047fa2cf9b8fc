/**
 * The control plane's state: desired functions, the current snapshot, the router streams
 * and the API waits. Desired-state updates are queued and applied in batches (the first after
 * a quiet spell at once, then a few ms of debounce), one at a time; waits are re-checked on every snapshot and every router
 * reply, and always end by their deadline.
 */
import { randomBytes } from 'node:crypto';
import type { FunctionRouteSpec, Logger, RolloutResult, RouterStatus } from '@faas/contracts';
import type { DesiredStore } from './persistence';
import type { BuilderHooks } from './resources';
import { RouterStream, type Protocol, type StreamContext, type XdsEvent } from './router-stream';
import { RouteConfigCache, buildSnapshot, type FunctionEntry, type Snapshot } from './snapshot';
import { allRoutes } from './stream-content';
import { NodeRejections } from './rejections';
import { assertConsistent } from './snapshot-consistency';
import { RolloutWaits } from './rollout-waits';

export { commonAckedVersions } from './rollout-waits';

/** Node ids whose rejections are remembered; beyond this the oldest unconnected is dropped. */
const MAX_REMEMBERED_NODES = 1024;

export interface ControlPlaneOptions {
  routerAddress: string;
  routerPort: number;
  logger: Logger;
  store?: DesiredStore;
  builderHooks?: BuilderHooks;
  onEvent?: (e: XdsEvent) => void;
  /** Updates arriving within this many ms are applied as one snapshot. */
  debounceMs?: number;
}

export class ControlPlane {
  /** Unique per process: versions never repeat across restarts. */
  readonly epoch = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  private readonly specs = new Map<string, FunctionRouteSpec>();
  private snap: Snapshot;
  private readonly retiredEntries = new Map<string, FunctionEntry>();
  private readonly streams = new Set<RouterStream>();
  private readonly waits = new RolloutWaits(() => this.connected(), () => this.snap);
  private queued = new Map<string, FunctionRouteSpec | null>();
  private queuedWaiters: { resolve(): void; reject(e: Error): void }[] = [];
  private flushTimer: { cancel(): void } | null = null;
  /** performance.now() of the last flush's start: an update after a quiet spell flushes at once. */
  private lastFlushAt = -Infinity;
  private flushing: Promise<void> = Promise.resolve();
  private versionSeq = 0;
  private readonly routeConfigs = new RouteConfigCache();
  /** Per node id, what it rejected: outlives its streams, so a reconnect is not re-sent it. */
  private readonly nodeRejections = new Map<string, NodeRejections>();
  private readonly ctx: StreamContext;
  private closed = false;

  constructor(private readonly opts: ControlPlaneOptions) {
    this.snap = buildSnapshot([], this.snapshotOptions());
    opts.store?.follow(() => this.functions());
    this.ctx = {
      epoch: this.epoch,
      snapshot: () => this.snap,
      retired: (fn) => this.retiredEntries.get(fn),
      routeConfigs: this.routeConfigs,
      nextVersion: () => `${this.epoch}-${++this.versionSeq}`,
      now: () => Date.now(),
      emit: (e) => this.emit(e),
      logger: opts.logger,
      rejections: (nodeId) => this.rejectionsOf(nodeId),
    };
  }

  private rejectionsOf(nodeId: string): NodeRejections {
    let r = this.nodeRejections.get(nodeId);
    if (r === undefined) {
      if (this.nodeRejections.size >= MAX_REMEMBERED_NODES) {
        const live = new Set(this.connected().map((s) => s.nodeId));
        for (const id of this.nodeRejections.keys()) {
          if (!live.has(id)) {
            this.nodeRejections.delete(id);
            break;
          }
        }
      }
      r = new NodeRejections(nodeId);
      this.nodeRejections.set(nodeId, r);
    }
    return r;
  }

  private snapshotOptions() {
    return { epoch: this.epoch, routerAddress: this.opts.routerAddress, routerPort: this.opts.routerPort, ...(this.opts.builderHooks ? { hooks: this.opts.builderHooks } : {}) };
  }

  private emit(e: XdsEvent): void {
    if (this.opts.onEvent) {
      try {
        this.opts.onEvent(e);
      } catch (err) {
        this.opts.logger.warn('event_hook_failed', { message: (err as Error).message });
      }
    }
  }

  get snapshot(): Snapshot {
    return this.snap;
  }

  /** Load persisted desired state (at start, before routers connect). */
  async loadFromStore(): Promise<number> {
    if (!this.opts.store) return 0;
    const specs = await this.opts.store.load();
    for (const s of specs) this.specs.set(s.name, s);
    this.rebuild();
    return specs.length;
  }

  functions(): FunctionRouteSpec[] {
    return [...this.specs.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  has(fn: string): boolean {
    return (this.queued.has(fn) ? this.queued.get(fn) !== null : this.specs.has(fn));
  }

  /** Queue a change (spec, or null to remove); resolves once it is in the snapshot. */
  update(fn: string, spec: FunctionRouteSpec | null): Promise<void> {
    if (this.closed) return Promise.reject(new Error('xds-server is closing'));
    this.queued.set(fn, spec);
    const p = new Promise<void>((resolve, reject) => this.queuedWaiters.push({ resolve, reject }));
    if (this.flushTimer === null) {
      const run = (): void => {
        this.flushTimer = null;
        this.lastFlushAt = performance.now();
        this.flushing = this.flushing.then(() => this.flush());
      };
      // Leading edge: the first change after a quiet spell (a wake's endpoint) waits for nothing
      // but this turn of the event loop; changes close behind it are batched by the debounce.
      const debounceMs = this.opts.debounceMs ?? 2;
      if (performance.now() - this.lastFlushAt >= debounceMs) {
        const h = setImmediate(run);
        this.flushTimer = { cancel: () => clearImmediate(h) };
      } else {
        const h = setTimeout(run, debounceMs);
        this.flushTimer = { cancel: () => clearTimeout(h) };
      }
    }
    return p;
  }

  private async flush(): Promise<void> {
    const changes = this.queued;
    const waiters = this.queuedWaiters;
    this.queued = new Map();
    this.queuedWaiters = [];
    const before = new Map(this.specs);
    try {
      for (const [fn, spec] of changes) {
        if (spec === null) this.specs.delete(fn);
        else this.specs.set(fn, spec);
      }
      this.rebuild();
      for (const w of waiters) w.resolve();
    } catch (err) {
      // A rejected snapshot (inconsistent, or a builder failure) leaves the desired state as it was.
      this.specs.clear();
      for (const [fn, spec] of before) this.specs.set(fn, spec);
      this.opts.logger.error('snapshot_rejected', { message: (err as Error).message, fns: [...changes.keys()] });
      for (const w of waiters) w.reject(err as Error);
      return;
    }
    if (this.opts.store) {
      // Persistence failure must not block routing; it is logged and retried on next change.
      await this.opts.store.save(changes).catch((err: Error) => this.opts.logger.error('persist_failed', { message: err.message }));
    }
  }

  private rebuild(): void {
    const t0 = performance.now();
    const prev = this.snap;
    const next = buildSnapshot(this.specs.values(), this.snapshotOptions(), prev);
    // Checked before any router sees it: a bad snapshot never leaves this process.
    assertConsistent(next);
    this.snap = next;
    for (const [fn, e] of prev.functions) if (!this.snap.functions.has(fn)) this.retiredEntries.set(fn, e);
    for (const fn of this.snap.functions.keys()) this.retiredEntries.delete(fn);
    for (const s of this.streams) s.reconcile();
    this.gcRetired();
    this.prewarmRoutes();
    const buildMs = performance.now() - t0;
    this.opts.logger.debug('snapshot', { generation: this.snap.generation, functions: this.snap.functions.size, buildMs });
    this.emit({ kind: 'snapshot', generation: this.snap.generation, functions: this.snap.functions.size, buildMs });
    this.checkWaits();
  }

  /**
   * Build the all-released RouteConfiguration in the next idle moment: while routers
   * process the new clusters and endpoints, so it is ready when their ACKs release the
   * routes (for 1,000 functions it is the largest resource).
   */
  private prewarmRoutes(): void {
    const snap = this.snap;
    const flavours = new Set([...this.streams].filter((s) => s.node !== null).map((s) => s.isGrpc));
    if (flavours.size === 0) return;
    setImmediate(() => {
      if (this.closed || this.snap !== snap) return;
      for (const grpc of flavours) allRoutes(snap, this.routeConfigs, grpc);
    });
  }

  private gcRetired(): void {
    if (this.retiredEntries.size === 0) return;
    const held = new Set<string>();
    for (const s of this.streams) for (const fn of s.retainedFunctions) held.add(fn);
    for (const fn of [...this.retiredEntries.keys()]) if (!held.has(fn)) this.retiredEntries.delete(fn);
  }

  // ---- router streams ----

  openStream(protocol: Protocol, write: ConstructorParameters<typeof RouterStream>[2]): RouterStream {
    const s = new RouterStream(protocol, this.ctx, write);
    this.streams.add(s);
    return s;
  }

  /** After a stream handled a request: its replies may complete waits. */
  afterRequest(): void {
    this.gcRetired();
    this.checkWaits();
  }

  closeStream(s: RouterStream): void {
    if (!this.streams.delete(s)) return;
    s.closed = true;
    if (s.node !== null) {
      this.opts.logger.info('router_disconnected', { nodeId: s.nodeId, streamId: s.streamId });
      this.emit({ kind: 'stream-close', nodeId: s.nodeId, protocol: s.protocol, streamId: s.streamId });
    }
    this.gcRetired();
    this.checkWaits();
  }

  routers(): RouterStatus[] {
    return [...this.streams].filter((s) => s.node !== null).map((s) => s.status());
  }

  private connected(): RouterStream[] {
    return [...this.streams].filter((s) => s.node !== null);
  }

  /** Resolve once every connected router runs the current target for fn (or fail clearly). */
  waitForRollout(fn: string, waitMs: number): Promise<RolloutResult> {
    return this.waits.wait(fn, waitMs);
  }

  private checkWaits(): void {
    this.waits.checkAll();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.flushTimer !== null) {
      this.flushTimer.cancel();
      this.flushTimer = null;
      this.flushing = this.flushing.then(() => this.flush());
    }
    await this.flushing;
    this.waits.closeAll();
    for (const s of [...this.streams]) this.closeStream(s);
  }
}
