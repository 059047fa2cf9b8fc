/**
 * A router simulated against the pure planner (no gRPC, no timers): it feeds planner
 * events, applies the planned responses to what it "holds" and ACKs or NACKs them on
 * demand, so tests read the exact order of responses.
 */
import { XDS_NAMES, type FunctionRouteSpec } from '@faas/contracts';
import { plan } from '../../src/planner';
import { NodeRejections } from '../../src/rejections';
import { RouteConfigCache, buildSnapshot, type FunctionEntry, type Snapshot } from '../../src/snapshot';
import { newStreamState, type Effect, type PlannedResponse, type PlannerEnv, type Protocol, type StreamState } from '../../src/stream-state';
import { syncOf } from '../../src/stream-sync';
import type { ResourceType } from '../../src/proto';

/** The control plane's side: snapshots, retired entries, versions. */
export class PlannerWorld {
  snap: Snapshot;
  private readonly retired = new Map<string, FunctionEntry>();
  private seq = 0;
  readonly env: PlannerEnv;
  readonly rejections = new Map<string, NodeRejections>();

  constructor(specs: FunctionRouteSpec[] = []) {
    this.snap = buildSnapshot(specs, this.opts());
    this.env = {
      epoch: 'e', routeConfigs: new RouteConfigCache(), now: () => 0,
      nextVersion: () => `v${++this.seq}`, retired: (fn) => this.retired.get(fn),
    };
  }

  private opts() {
    return { epoch: 'e', routerAddress: '127.0.0.1', routerPort: 10000 };
  }

  /** Replace the desired state with `specs`; removed functions stay retrievable as retired. */
  set(specs: FunctionRouteSpec[]): void {
    const prev = this.snap;
    this.snap = buildSnapshot(specs, this.opts(), prev);
    for (const [fn, e] of prev.functions) if (!this.snap.functions.has(fn)) this.retired.set(fn, e);
  }

  rejectionsOf(nodeId: string): NodeRejections {
    let r = this.rejections.get(nodeId);
    if (r === undefined) this.rejections.set(nodeId, (r = new NodeRejections(nodeId)));
    return r;
  }
}

export interface Sent { type: ResourceType; nonce: string; names: string[]; removed: string[]; routeFns: string[] }

function describe(r: PlannedResponse): Sent {
  const names = r.protocol === 'sotw' ? [...r.content.entries.keys()] : r.upserts.map((e) => e.name);
  return { type: r.type, nonce: r.nonce, names: names.sort(), removed: r.protocol === 'delta' ? [...r.removals].sort() : [], routeFns: [...r.routeFns.keys()].sort() };
}

/** One simulated router stream (Envoy-like: wildcard CDS/LDS/EDS, RDS by name). */
export class FakeRouter {
  readonly state: StreamState;
  /** What the router runs per type: name -> hash. */
  readonly holds: Record<ResourceType, Map<string, string>> = { cluster: new Map(), endpoint: new Map(), listener: new Map(), route: new Map() };
  /** Every response, in order. */
  readonly log: Sent[] = [];
  /** Responses not yet ACKed or NACKed, in order. */
  private readonly unanswered: PlannedResponse[] = [];
  readonly effects: Effect[] = [];

  constructor(private readonly w: PlannerWorld, readonly protocol: Protocol, nodeId = 'n1', isGrpc = false) {
    this.state = newStreamState(protocol, isGrpc, w.rejectionsOf(nodeId));
  }

  /** Feed one planner event; returns the responses it produced. */
  private feed(ev: Parameters<typeof plan>[3]): Sent[] {
    const out = plan(this.w.env, this.w.snap, this.state, ev);
    this.effects.push(...out);
    const sent: Sent[] = [];
    for (const e of out) {
      if (e.kind !== 'send') continue;
      this.unanswered.push(e.response);
      sent.push(describe(e.response));
    }
    this.log.push(...sent);
    return sent;
  }

  /** A first (or later) subscription request for `type`: SotW names, or delta subscribe. */
  subscribe(type: ResourceType, names: string[] = [], opts: { nonce?: string; initial?: Record<string, string> } = {}): Sent[] {
    if (this.protocol === 'sotw') return this.feed({ kind: 'sotw-request', type, nonce: opts.nonce ?? '', names, nack: null });
    return this.feed({ kind: 'delta-request', type, nonce: '', subscribe: names, unsubscribe: [], initialVersions: opts.initial ?? {}, nack: null });
  }

  /** Subscribe the four types as an Envoy-like router does. */
  connect(): Sent[] {
    return [...this.subscribe('cluster'), ...this.subscribe('endpoint'), ...this.subscribe('listener'), ...this.subscribe('route', [XDS_NAMES.routeConfig])];
  }

  /** A new snapshot (or nothing new) re-planned. */
  replan(): Sent[] {
    return this.feed({ kind: 'snapshot' });
  }

  /** Reply to the oldest unanswered response (ACK, or NACK with `nackMessage`). */
  reply(nackMessage?: string): Sent[] {
    const r = this.unanswered.shift();
    if (r === undefined) throw new Error('nothing to reply to');
    const nack = nackMessage === undefined ? null : { message: nackMessage };
    if (nack === null) this.apply(r);
    if (this.protocol === 'sotw') {
      // A SotW reply repeats the subscription: [] for a wildcard, else the names.
      const sub = this.state.types[r.type].sub;
      return this.feed({ kind: 'sotw-request', type: r.type, nonce: r.nonce, names: sub.wildcard ? [] : [...sub.names], nack });
    }
    return this.feed({ kind: 'delta-request', type: r.type, nonce: r.nonce, subscribe: [], unsubscribe: [], initialVersions: {}, nack });
  }

  /** ACK everything until the planner has nothing more to send; returns what was sent. */
  settle(limit = 50): Sent[] {
    const all: Sent[] = [];
    for (let i = 0; this.unanswered.length > 0; i++) {
      if (i > limit) throw new Error('planner did not settle');
      all.push(...this.reply());
    }
    return all;
  }

  /** Type of the oldest unanswered response. */
  nextType(): ResourceType | undefined {
    return this.unanswered[0]?.type;
  }

  private apply(r: PlannedResponse): void {
    const h = this.holds[r.type];
    if (r.protocol === 'sotw') {
      h.clear();
      for (const [n, e] of r.content.entries) h.set(n, e.hash);
    } else {
      for (const e of r.upserts) h.set(e.name, e.hash);
      for (const n of r.removals) h.delete(n);
    }
  }

  sync(fn: string): ReturnType<typeof syncOf> {
    return syncOf(this.state, fn, this.w.snap);
  }
}
