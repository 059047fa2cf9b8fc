/**
 * Live state of one upstream cluster: hosts with their in-flight counts, the circuit
 * breaker (max in-flight + bounded FIFO pending queue) and the cluster's Envoy stats.
 */
import { ENVOY_CLUSTER_STATS } from '@faas/contracts';
import { hasCapacity, pickLeastRequest } from './balancer';
import type { ClusterModel, EndpointModel } from './model';
import { type Counter, StatsRegistry } from './stats';

export interface Host {
  key: string;
  address: string;
  port: number;
  active: number;
  routable: boolean;
}

/** A request waiting in the pending queue. */
export interface Waiter {
  /** Called once a slot is free; the waiter now holds it and must release() it. */
  grant(): void;
}

export type Admission = 'now' | 'queued' | 'overflow';

export function isRoutable(e: EndpointModel): boolean {
  return e.health === 'HEALTHY' || e.health === 'UNKNOWN';
}

export class ClusterRuntime {
  hosts: Host[] = [];
  /** Only HEALTHY/UNKNOWN hosts: never DRAINING. */
  healthy: Host[] = [];
  maxRequests: number;
  maxPending: number;
  /** In-flight limit per host (per_host_thresholds max_connections), Infinity = none. */
  maxPerHost: number;
  connectTimeoutMs: number;
  metadata: ClusterModel['metadata'];
  /** Retries waiting for a host they have not tried yet (woken by endpoint or host-room changes). */
  private hostWatchers: Array<() => void> = [];
  /** Admitted (slot-holding) requests. */
  active = 0;
  private queue: Waiter[] = [];
  private qHead = 0;

  // Counters kept as objects: the hot path only increments.
  readonly cRqTotal: Counter;
  readonly c2xx: Counter;
  readonly c3xx: Counter;
  readonly c4xx: Counter;
  readonly c5xx: Counter;
  readonly c1xx: Counter;
  readonly cOverflow: Counter;
  readonly cNoneHealthy: Counter;
  readonly cTimeout: Counter;
  readonly cRetry: Counter;
  readonly cPendingTotal: Counter;
  private readonly codeCounters = new Map<number, Counter>();
  private readonly statBase: string;
  private readonly timeStat: string;

  constructor(readonly name: string, model: ClusterModel, private readonly stats: StatsRegistry) {
    this.maxRequests = model.maxRequests;
    this.maxPending = model.maxPendingRequests;
    this.maxPerHost = model.maxRequestsPerHost;
    this.connectTimeoutMs = model.connectTimeoutMs;
    this.metadata = model.metadata;
    const b = `cluster.${name}.`;
    this.statBase = b;
    this.timeStat = b + ENVOY_CLUSTER_STATS.rqTime;
    this.cRqTotal = stats.counter(b + ENVOY_CLUSTER_STATS.rqTotal);
    this.c1xx = stats.counter(`${b}upstream_rq_1xx`);
    this.c2xx = stats.counter(b + ENVOY_CLUSTER_STATS.rq2xx);
    this.c3xx = stats.counter(`${b}upstream_rq_3xx`);
    this.c4xx = stats.counter(`${b}upstream_rq_4xx`);
    this.c5xx = stats.counter(b + ENVOY_CLUSTER_STATS.rq5xx);
    this.cOverflow = stats.counter(b + ENVOY_CLUSTER_STATS.rqPendingOverflow);
    this.cNoneHealthy = stats.counter(b + ENVOY_CLUSTER_STATS.cxNoneHealthy);
    this.cTimeout = stats.counter(b + ENVOY_CLUSTER_STATS.rqTimeout);
    this.cRetry = stats.counter(`${b}upstream_rq_retry`);
    this.cPendingTotal = stats.counter(`${b}upstream_rq_pending_total`);
    stats.gauge(b + ENVOY_CLUSTER_STATS.rqActive, () => this.active);
    stats.gauge(b + ENVOY_CLUSTER_STATS.rqPendingActive, () => this.pendingCount());
    stats.gauge(b + ENVOY_CLUSTER_STATS.membershipHealthy, () => this.healthy.length);
    stats.gauge(b + ENVOY_CLUSTER_STATS.membershipTotal, () => this.hosts.length);
  }

  /** New limits from CDS; raised limits let queued requests through at once. */
  updateModel(model: ClusterModel): void {
    this.maxRequests = model.maxRequests;
    this.maxPending = model.maxPendingRequests;
    this.maxPerHost = model.maxRequestsPerHost;
    this.connectTimeoutMs = model.connectTimeoutMs;
    this.metadata = model.metadata;
    this.drain();
  }

  /** New endpoints from EDS; in-flight counts survive for hosts that stay. */
  setEndpoints(endpoints: readonly EndpointModel[]): void {
    const old = new Map(this.hosts.map((h) => [h.key, h]));
    const hosts: Host[] = [];
    for (const e of endpoints) {
      const key = `${e.address}:${e.port}`;
      const prev = old.get(key);
      const h: Host = prev ?? { key, address: e.address, port: e.port, active: 0, routable: false };
      h.routable = isRoutable(e);
      if (!hosts.some((x) => x.key === key)) hosts.push(h);
    }
    this.hosts = hosts;
    this.healthy = hosts.filter((h) => h.routable);
    this.drain(); // new hosts may have room; with none left, waiters get "no healthy upstream"
    this.wakeWatchers();
  }

  /** Call `cb` once on the next endpoint update or host release; returns a cancel. */
  onHostsChange(cb: () => void): () => void {
    this.hostWatchers.push(cb);
    return () => {
      const i = this.hostWatchers.indexOf(cb);
      if (i >= 0) this.hostWatchers.splice(i, 1);
    };
  }

  private wakeWatchers(): void {
    if (this.hostWatchers.length === 0) return;
    const ws = this.hostWatchers;
    this.hostWatchers = [];
    for (const w of ws) w();
  }

  /**
   * Whether an admitted request would find a host below its per-host limit. With no healthy
   * host at all it is true: the request is let through to answer "no healthy upstream".
   */
  hostRoom(): boolean {
    return this.healthy.length === 0 || hasCapacity(this.healthy, this.maxPerHost);
  }

  pendingCount(): number {
    return this.queue.length - this.qHead;
  }

  admit(w: Waiter): Admission {
    if (this.active < this.maxRequests && this.pendingCount() === 0 && this.hostRoom()) {
      this.active++;
      return 'now';
    }
    if (this.pendingCount() >= this.maxPending) {
      this.cOverflow.inc();
      return 'overflow';
    }
    this.queue.push(w);
    this.cPendingTotal.inc();
    return 'queued';
  }

  /** Remove a waiter that gave up (timeout, client gone). */
  cancel(w: Waiter): void {
    const i = this.queue.indexOf(w, this.qHead);
    if (i >= 0) this.queue.splice(i, 1);
  }

  release(): void {
    this.active--;
    this.drain();
  }

  /**
   * A slot holder that found every healthy host at its per-host limit (a retry whose host
   * room was taken meanwhile): gives its slot back and waits at the head of the queue.
   */
  requeue(w: Waiter): void {
    this.active--;
    if (this.qHead > 0) this.queue[--this.qHead] = w;
    else this.queue.unshift(w);
    this.drain();
  }

  /** A request starts on `h`. */
  acquireHost(h: Host): void {
    h.active++;
  }

  /** A request left `h`: with a per-host limit, a queued request may now fit. */
  releaseHost(h: Host): void {
    h.active--;
    if (this.maxPerHost !== Infinity && this.pendingCount() > 0) this.drain();
    this.wakeWatchers();
  }

  private drain(): void {
    while (this.active < this.maxRequests && this.pendingCount() > 0 && this.hostRoom()) {
      const w = this.queue[this.qHead] as Waiter;
      this.qHead++;
      if (this.qHead > 1024 && this.qHead * 2 > this.queue.length) { this.queue = this.queue.slice(this.qHead); this.qHead = 0; }
      this.active++;
      w.grant();
    }
  }

  pick(random: () => number, exclude?: ReadonlySet<Host>): Host | undefined {
    return pickLeastRequest(this.healthy, random, exclude, this.maxPerHost);
  }

  countCode(code: number): void {
    const cls = (code / 100) | 0;
    if (cls === 2) this.c2xx.inc();
    else if (cls === 5) this.c5xx.inc();
    else if (cls === 4) this.c4xx.inc();
    else if (cls === 3) this.c3xx.inc();
    else if (cls === 1) this.c1xx.inc();
    let c = this.codeCounters.get(code);
    if (c === undefined) this.codeCounters.set(code, (c = this.stats.counter(`${this.statBase}upstream_rq_${code}`)));
    c.inc();
  }

  recordTime(ms: number): void {
    this.stats.timing(this.timeStat, ms);
  }

  /** Forget the stats of a removed cluster (Envoy drops them with the cluster). */
  dispose(): void {
    this.stats.removePrefix(this.statBase);
  }
}
