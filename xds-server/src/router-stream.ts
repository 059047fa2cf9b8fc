/**
 * One ADS stream from one router (Envoy, the stand-in, or a gRPC xDS client), SotW or
 * delta. Holds per-type subscription, what was sent, ACKed and NACKed, and decides what
 * to send next in make-before-break order (CDS, EDS, LDS, RDS):
 *  - a function's route is released to this stream only after the stream has ACKed its
 *    cluster and endpoints (when it is subscribed to them);
 *  - a removed function's cluster stays until the stream has ACKed routes without it;
 *  - any cluster (re)sent makes its endpoints due again (Envoy warms clusters until a
 *    new CLA arrives).
 * Reconciling runs on every request, so it is incremental: each type's content is memoized
 * per (snapshot, subscription), routers subscribed to everything share the snapshot's
 * content (sorted, hashed and encoded once, see stream-content.ts), and SotW responses
 * are framed from pre-encoded bytes (response-bytes.ts).
 */
import { XDS_NAMES, clusterName, type Logger, type RouterStatus, type RouterTypeStatus } from '@faas/contracts';
import { RESOURCE_TYPES, TYPE_URLS, resourceTypeOfUrl, type ResourceType } from './proto';
import type { FunctionEntry, ResourceEntry, RouteConfigCache, Snapshot } from './snapshot';
import { applyDeltaNames, applySotwNames, newSubscription, sameSubscription, subscribes, type Subscription } from './subscription';
import { encodeSotwResponse } from './response-bytes';
import {
  EMPTY_CONTENT, allClusters, allEndpoints, allRoutes, contentBlock, coversAllClusters, isAllRouteFns, makeContent, singleContent,
  someRoutes, sortedFunctionNames, type Content,
} from './stream-content';
import type { DiscoveryRequest__Output } from './generated/envoy/service/discovery/v3/DiscoveryRequest';
import type { DiscoveryResponse } from './generated/envoy/service/discovery/v3/DiscoveryResponse';
import type { DeltaDiscoveryRequest__Output } from './generated/envoy/service/discovery/v3/DeltaDiscoveryRequest';
import type { DeltaDiscoveryResponse } from './generated/envoy/service/discovery/v3/DeltaDiscoveryResponse';
import type { Node__Output } from './generated/envoy/config/core/v3/Node';
import { FaasError } from '@faas/contracts';
import type { NodeRejections } from './rejections';

export type Protocol = 'sotw' | 'delta';

/** Events for observability and tests (order of responses, ACKs, NACKs). */
export type XdsEvent =
  | { kind: 'stream-open'; nodeId: string; userAgent: string; protocol: Protocol; streamId: number }
  | { kind: 'stream-close'; nodeId: string; protocol: Protocol; streamId: number }
  | { kind: 'response'; nodeId: string; protocol: Protocol; streamId: number; type: ResourceType; version: string; nonce: string; names: string[]; removed: string[]; routeFns?: string[] }
  | { kind: 'ack'; nodeId: string; protocol: Protocol; streamId: number; type: ResourceType; version: string; nonce: string }
  | { kind: 'nack'; nodeId: string; protocol: Protocol; streamId: number; type: ResourceType; version: string; nonce: string; message: string }
  | { kind: 'stale'; nodeId: string; protocol: Protocol; streamId: number; type: ResourceType; nonce: string }
  | { kind: 'snapshot'; generation: number; functions: number; buildMs: number };

/** What a stream needs from the control plane. */
export interface StreamContext {
  epoch: string;
  snapshot(): Snapshot;
  /** Entry of a function removed from desired state but maybe still held by a router. */
  retired(fn: string): FunctionEntry | undefined;
  routeConfigs: RouteConfigCache;
  nextVersion(): string;
  emit(e: XdsEvent): void;
  logger: Logger;
  /** What this node id rejected, shared by all its streams (survives reconnects). */
  rejections(nodeId: string): NodeRejections;
}

export class StreamProtocolError extends FaasError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('xds_protocol', message, context);
    this.name = 'StreamProtocolError';
  }
}

interface Pending { upserts: Map<string, string>; entries: ResourceEntry[]; removals: string[]; contentKey: string; routeFns: ReadonlyMap<string, string>; version: string }

/** A type's content as last computed, valid while snapshot and subscription are unchanged. */
interface ContentMemo { snap: Snapshot; subGen: number; content: Content }

const NO_ROUTE_FNS: ReadonlyMap<string, string> = new Map();

interface TypeState {
  type: ResourceType;
  requested: boolean;
  /** The next send must happen even without change (first request, reconnect). */
  mustAnswer: boolean;
  sub: Subscription;
  /** Bumped whenever `sub` selects different names (invalidates `memo`). */
  subGen: number;
  memo: ContentMemo | null;
  /** Newly subscribed names not yet answered. */
  newNames: Set<string>;
  lastNonce: string | null;
  sentVersion: string | null;
  /** name -> hash; these maps are shared between streams and never mutated. */
  sentContent: ReadonlyMap<string, string>;
  /** The entries of the last SotW response (what a NACK of it rejects). */
  sentEntries: ReadonlyMap<string, ResourceEntry>;
  sentContentKey: string | null;
  sentRouteFns: ReadonlyMap<string, string>;
  acked: ReadonlyMap<string, string>;
  ackedRouteFns: ReadonlyMap<string, string>;
  ackedVersion: string | null;
  ackedContentKey: string | null;
  nack: { version: string; message: string; at: number } | null;
  nackedContentKey: string | null;
  /** The latest response of this type was NACKed and nothing newer was sent. */
  lastNacked: boolean;
  /** The target content equals the NACKed content, so it is held back (never re-sent). */
  blockedByNack: boolean;
  /** Delta: what the client holds (sent, ACK pending or done). */
  clientHas: Map<string, string>;
  pending: Map<string, Pending>;
}

function newTypeState(type: ResourceType): TypeState {
  return {
    type, requested: false, mustAnswer: false, sub: newSubscription(), subGen: 0, memo: null, newNames: new Set(),
    lastNonce: null, sentVersion: null, sentContent: new Map(), sentEntries: new Map(), sentContentKey: null, sentRouteFns: new Map(),
    acked: new Map(), ackedRouteFns: new Map(), ackedVersion: null, ackedContentKey: null,
    nack: null, nackedContentKey: null, lastNacked: false, blockedByNack: false, clientHas: new Map(), pending: new Map(),
  };
}

export type SyncState = { state: 'synced' } | { state: 'pending'; type: ResourceType } | { state: 'nacked'; type: ResourceType; message: string };

let streamSeq = 0;

export class RouterStream {
  readonly streamId = ++streamSeq;
  readonly protocol: Protocol;
  readonly connectedAt = Date.now();
  node: Node__Output | null = null;
  isGrpc = false;
  private nonceSeq = 0;
  private readonly types: Record<ResourceType, TypeState>;
  /** Functions whose routes this stream has been given (make-before-break gate). */
  private readonly released = new Set<string>();
  /** Snapshot `released` was last pruned against, and a counter of its changes. */
  private releasedFor: Snapshot | null = null;
  private releasedGen = 0;
  private routeMemo: { snap: Snapshot; releasedGen: number; subGen: number; content: Content; routeFns: ReadonlyMap<string, string> } | null = null;
  /** Clusters sent in CDS whose CLA has not been sent since. */
  private readonly needsCla = new Set<string>();
  /** Functions removed from the target whose cluster this router may still need (still routed). */
  retainedFunctions: ReadonlySet<string> = new Set<string>();
  private log: Logger;
  /** Set with the node: rejections of this node id (shared with its other streams). */
  private rej: NodeRejections | null = null;
  closed = false;

  /** `write` gets SotW responses already encoded (a Buffer), delta responses as objects. */
  constructor(protocol: Protocol, private readonly ctx: StreamContext, private readonly write: (msg: DiscoveryResponse | DeltaDiscoveryResponse | Buffer) => void) {
    this.protocol = protocol;
    this.types = { cluster: newTypeState('cluster'), endpoint: newTypeState('endpoint'), listener: newTypeState('listener'), route: newTypeState('route') };
    this.log = ctx.logger.child({ streamId: this.streamId, protocol });
  }

  get nodeId(): string {
    return this.node?.id ?? '';
  }

  private adoptNode(node: Node__Output | null): void {
    if (this.node !== null) return;
    if (node === null || typeof node.id !== 'string' || node.id === '') {
      throw new StreamProtocolError('the first request on an ADS stream must carry node.id');
    }
    this.node = node;
    this.rej = this.ctx.rejections(node.id);
    this.isGrpc = /^grpc/i.test(node.user_agent_name ?? '');
    this.log = this.ctx.logger.child({ streamId: this.streamId, protocol: this.protocol, nodeId: node.id });
    this.log.info('router_connected', { userAgent: node.user_agent_name, grpcClient: this.isGrpc });
    this.ctx.emit({ kind: 'stream-open', nodeId: node.id, userAgent: node.user_agent_name, protocol: this.protocol, streamId: this.streamId });
  }

  private typeOf(url: string): ResourceType | undefined {
    const t = resourceTypeOfUrl(url);
    if (t === undefined) this.log.warn('unsupported_type_url', { typeUrl: url });
    return t;
  }

  onSotwRequest(req: DiscoveryRequest__Output): void {
    this.adoptNode(req.node);
    const type = this.typeOf(req.type_url);
    if (type === undefined) return;
    const st = this.types[type];
    const nonce = req.response_nonce ?? '';
    if (nonce !== '' && st.lastNonce !== null && nonce !== st.lastNonce) {
      // Stale: a newer response is on its way; the client's next request repeats its names.
      this.ctx.emit({ kind: 'stale', nodeId: this.nodeId, protocol: 'sotw', streamId: this.streamId, type, nonce });
      return;
    }
    // Nothing sent of this type on this stream yet: a nonce here comes from an earlier
    // stream (reconnect), so this is a first request and is always answered.
    if (nonce !== '' && st.lastNonce !== null) this.recordSotwReply(st, req.error_detail?.message, req.error_detail !== null && req.error_detail !== undefined);
    else st.mustAnswer = true;
    const before = { wildcard: st.sub.wildcard, names: st.sub.names };
    for (const n of applySotwNames(st.sub, req.resource_names ?? [])) {
      // Naming a resource the wildcard already delivered and the client ACKed is not a
      // new request (Envoy-like clients switch EDS from wildcard to explicit names).
      if (!(before.wildcard && st.acked.has(n))) st.newNames.add(n);
    }
    if (!sameSubscription(before, st.sub)) st.subGen++;
    st.requested = true;
    this.reconcile();
  }

  private recordSotwReply(st: TypeState, message: string | undefined, isNack: boolean): void {
    const version = st.sentVersion ?? '';
    if (isNack) {
      st.nack = { version, message: message ?? '', at: Date.now() };
      st.nackedContentKey = st.sentContentKey;
      st.lastNacked = true;
      const rejected = st.type === 'route' ? [] : this.rej!.nacked(st.type, st.sentEntries, version, st.nack.message);
      this.log.warn('nack', { type: st.type, version, message: st.nack.message, rejected });
      this.ctx.emit({ kind: 'nack', nodeId: this.nodeId, protocol: this.protocol, streamId: this.streamId, type: st.type, version, nonce: st.lastNonce ?? '', message: st.nack.message });
    } else {
      st.acked = st.sentContent;
      st.ackedRouteFns = st.sentRouteFns;
      st.ackedVersion = version;
      st.ackedContentKey = st.sentContentKey;
      st.lastNacked = false;
      if (st.type !== 'route') this.rej!.ackedAll(st.type, st.sentEntries);
      this.ctx.emit({ kind: 'ack', nodeId: this.nodeId, protocol: this.protocol, streamId: this.streamId, type: st.type, version, nonce: st.lastNonce ?? '' });
    }
  }

  onDeltaRequest(req: DeltaDiscoveryRequest__Output): void {
    this.adoptNode(req.node);
    const type = this.typeOf(req.type_url);
    if (type === undefined) return;
    const st = this.types[type];
    const first = !st.requested;
    if (first) {
      st.mustAnswer = true;
      // The client already holds these (reconnect): unknown content to us, so re-sent.
      for (const [n, v] of Object.entries(req.initial_resource_versions ?? {})) st.clientHas.set(n, `client:${v}`);
    }
    // Subscription changes count even when the nonce is stale (delta rule).
    const subscribe = req.resource_names_subscribe ?? [];
    const unsubscribe = req.resource_names_unsubscribe ?? [];
    for (const n of applyDeltaNames(st.sub, first, subscribe, unsubscribe)) st.newNames.add(n);
    if (first || subscribe.length > 0 || unsubscribe.length > 0) st.subGen++;
    if (unsubscribe.length > 0) {
      const acked = new Map(st.acked);
      for (const n of unsubscribe) {
        st.clientHas.delete(n);
        acked.delete(n);
      }
      st.acked = acked;
    }
    st.requested = true;
    const nonce = req.response_nonce ?? '';
    const p = nonce === '' ? undefined : st.pending.get(nonce);
    if (p !== undefined) {
      const isLatest = nonce === st.lastNonce;
      const version = p.version;
      if (req.error_detail !== null && req.error_detail !== undefined) {
        st.nack = { version, message: req.error_detail.message ?? '', at: Date.now() };
        st.nackedContentKey = p.contentKey;
        if (isLatest) st.lastNacked = true;
        st.clientHas = new Map(st.acked);
        const rejected = type === 'route' ? [] : this.rej!.nacked(type, new Map(p.entries.map((e) => [e.name, e])), version, st.nack.message);
        this.log.warn('nack', { type, version, message: st.nack.message, rejected });
        this.ctx.emit({ kind: 'nack', nodeId: this.nodeId, protocol: 'delta', streamId: this.streamId, type, version, nonce, message: st.nack.message });
      } else {
        const acked = new Map(st.acked);
        for (const [n, h] of p.upserts) acked.set(n, h);
        for (const n of p.removals) acked.delete(n);
        st.acked = acked;
        st.ackedRouteFns = p.routeFns;
        st.ackedVersion = version;
        if (type !== 'route') this.rej!.ackedDelta(type, p.entries, p.removals);
        if (isLatest) st.lastNacked = false;
        this.ctx.emit({ kind: 'ack', nodeId: this.nodeId, protocol: 'delta', streamId: this.streamId, type, version, nonce });
      }
      // Nonces are increasing integers: this reply settles it and every older one.
      for (const k of [...st.pending.keys()]) if (Number(k) <= Number(nonce)) st.pending.delete(k);
    }
    this.reconcile();
  }

  /** Removed functions whose routes this router may still hold (sent, pending or ACKed). */
  private retained(snap: Snapshot): ReadonlySet<string> {
    const routeSt = this.types.route;
    const out = new Set<string>();
    const add = (m: ReadonlyMap<string, string>): void => {
      if (isAllRouteFns(snap, m)) return; // the usual case: exactly the target's functions
      for (const fn of m.keys()) if (!snap.functions.has(fn)) out.add(fn);
    };
    add(routeSt.sentRouteFns);
    if (routeSt.ackedRouteFns !== routeSt.sentRouteFns) add(routeSt.ackedRouteFns);
    for (const p of routeSt.pending.values()) add(p.routeFns);
    return out;
  }

  /**
   * Clusters or CLAs this stream is subscribed to: of the target's functions plus retained
   * ones. Memoized per (snapshot, subscription); a router subscribed to all of them (the
   * usual case) gets the snapshot's shared content, built and encoded once for all streams.
   */
  private functionContent(st: TypeState, snap: Snapshot, retained: ReadonlySet<string>, all: (s: Snapshot) => Content, pick: (e: FunctionEntry) => ResourceEntry): Content {
    if (retained.size === 0 && st.memo !== null && st.memo.snap === snap && st.memo.subGen === st.subGen) return st.memo.content;
    let content: Content;
    if (retained.size === 0 && coversAllClusters((n) => subscribes(st.sub, n), snap)) {
      content = all(snap);
    } else {
      const entries = new Map<string, ResourceEntry>();
      const consider = (fe: FunctionEntry | undefined): void => {
        if (fe === undefined) return;
        const e = pick(fe);
        if (subscribes(st.sub, e.name)) entries.set(e.name, e);
      };
      for (const fn of sortedFunctionNames(snap)) consider(snap.functions.get(fn));
      for (const fn of retained) consider(this.ctx.retired(fn));
      content = entries.size === 0 ? EMPTY_CONTENT : makeContent(entries);
    }
    // Retained entries can vanish without a new snapshot: only the plain case is memoized.
    st.memo = retained.size === 0 ? { snap, subGen: st.subGen, content } : null;
    return content;
  }

  /** Compute and send whatever each type needs, in CDS, EDS, LDS, RDS order. */
  reconcile(): void {
    if (this.closed || this.node === null) return;
    const snap = this.ctx.snapshot();
    const routeSt = this.types.route;

    // Clusters: desired, plus removed ones a route may still point at on this router.
    const retained = this.retained(snap);
    this.retainedFunctions = retained;

    const rej = this.rej!;
    // Content this node rejected is swapped for what it last ACKed (or left out).
    const cds = rej.filter('cluster', this.functionContent(this.types.cluster, snap, retained, allClusters, (e) => e.cluster));
    // Any cluster (re)sent with new content makes its CLA due again.
    this.send(this.types.cluster, cds, NO_ROUTE_FNS, false, undefined, (n) => this.needsCla.add(n));
    for (const n of this.needsCla) {
      const fn = n.slice(3);
      if (!snap.functions.has(fn) && !retained.has(fn)) this.needsCla.delete(n);
    }

    const eds = rej.filter('endpoint', this.functionContent(this.types.endpoint, snap, retained, allEndpoints, (e) => e.cla));
    let edsForce = false;
    for (const n of this.needsCla) {
      if (eds.entries.has(n)) {
        edsForce = true;
        break;
      }
    }
    if (this.send(this.types.endpoint, eds, NO_ROUTE_FNS, edsForce, edsForce ? this.needsCla : undefined)) {
      for (const n of this.needsCla) if (eds.entries.has(n)) this.needsCla.delete(n);
    }

    const listener = this.isGrpc ? snap.listeners.grpc : snap.listeners.envoy;
    const lds = rej.filter('listener', subscribes(this.types.listener.sub, listener.name) ? singleContent(listener) : EMPTY_CONTENT);
    this.send(this.types.listener, lds, NO_ROUTE_FNS, false);

    // Release routes of functions whose cluster and endpoints this router has ACKed.
    if (this.releasedFor !== snap) {
      for (const fn of this.released) {
        if (!snap.functions.has(fn)) {
          this.released.delete(fn);
          this.releasedGen++;
        }
      }
      this.releasedFor = snap;
    }
    // released only ever holds target functions: equal sizes mean all are released.
    if (this.released.size < snap.functions.size) {
      for (const fn of snap.functions.keys()) {
        if (!this.released.has(fn) && this.readyForRoute(fn)) {
          this.released.add(fn);
          this.releasedGen++;
        }
      }
    }
    let rm = this.routeMemo;
    if (rm === null || rm.snap !== snap || rm.releasedGen !== this.releasedGen || rm.subGen !== routeSt.subGen) {
      const r = !subscribes(routeSt.sub, XDS_NAMES.routeConfig)
        ? { content: EMPTY_CONTENT, routeFns: NO_ROUTE_FNS }
        : this.released.size === snap.functions.size
          ? allRoutes(snap, this.ctx.routeConfigs, this.isGrpc)
          : someRoutes(snap, this.released, this.ctx.routeConfigs, this.isGrpc);
      rm = { snap, releasedGen: this.releasedGen, subGen: routeSt.subGen, ...r };
      this.routeMemo = rm;
    }
    this.send(routeSt, rm.content, rm.routeFns, false);
  }

  private readyForRoute(fn: string): boolean {
    const cn = clusterName(fn);
    const cdsSubscribed = !this.isGrpc || subscribes(this.types.cluster.sub, cn);
    if (!cdsSubscribed) return true; // gRPC clients ask for a cluster only once a route names it
    return this.types.cluster.acked.has(cn) && this.types.endpoint.acked.has(cn) && !this.needsCla.has(cn);
  }

  /**
   * Send `content` for a type if needed; returns whether a response was written.
   * `onChanged` is told each name whose content differs from what the client had before.
   */
  private send(st: TypeState, content: Content, routeFns: ReadonlyMap<string, string>, force: boolean, forceNames?: ReadonlySet<string>, onChanged?: (name: string) => void): boolean {
    if (!st.requested) return false;
    const key = content.key;
    // Newly requested names are always answered (SotW: absence from the answer is how a
    // client learns a name does not exist, instead of waiting for its does-not-exist timer).
    const answer = st.mustAnswer || force || st.newNames.size > 0;
    if (this.protocol === 'sotw') {
      // After a NACK the router still runs its ACKed content: equal to it, nothing to send.
      const heldByClient = st.lastNacked && key === st.ackedContentKey;
      if (!answer && (key === st.sentContentKey || key === st.nackedContentKey || heldByClient)) {
        st.blockedByNack = key === st.nackedContentKey && key !== st.sentContentKey;
        st.newNames.clear();
        return false;
      }
      const nonce = String(++this.nonceSeq);
      const had = st.lastNacked ? st.acked : st.sentContent;
      if (onChanged !== undefined) for (const [n, h] of content.hashes) if (had.get(n) !== h) onChanged(n);
      const version = this.ctx.nextVersion();
      const msg = encodeSotwResponse(
        { version_info: version, type_url: TYPE_URLS[st.type], nonce, controlPlaneIdentifier: `faas-xds-server/${this.ctx.epoch}` },
        contentBlock(content),
      );
      st.sentVersion = version;
      st.sentContentKey = key;
      st.sentContent = content.hashes;
      st.sentEntries = content.entries;
      st.sentRouteFns = routeFns;
      this.finishSend(st, nonce, version, [...content.entries.keys()], [], routeFns, msg);
      return true;
    }
    // Delta: only what the client lacks, plus explicit removals.
    const upserts: ResourceEntry[] = [];
    for (const [n, e] of content.entries) {
      if (st.clientHas.get(n) !== e.hash || st.newNames.has(n) || forceNames?.has(n) === true) upserts.push(e);
    }
    const removals = [...st.clientHas.keys()].filter((n) => !content.entries.has(n));
    // A newly subscribed name we do not have is answered as removed, so the client need
    // not wait for its does-not-exist timer.
    for (const n of st.newNames) if (n !== '*' && !content.entries.has(n) && !st.clientHas.has(n)) removals.push(n);
    const mustSend = st.mustAnswer || upserts.length > 0 || removals.length > 0;
    if (!mustSend || (!st.mustAnswer && !force && key === st.nackedContentKey)) {
      st.blockedByNack = mustSend && key === st.nackedContentKey;
      st.newNames.clear();
      return false;
    }
    const nonce = String(++this.nonceSeq);
    if (onChanged !== undefined) for (const [n, h] of content.hashes) if (st.clientHas.get(n) !== h) onChanged(n);
    const version = this.ctx.nextVersion();
    const msg: DeltaDiscoveryResponse = {
      system_version_info: version, type_url: TYPE_URLS[st.type], nonce,
      // A forced re-send gets a fresh version so the client treats it as new.
      resources: upserts.map((e) => ({ name: e.name, version: forceNames?.has(e.name) === true ? `${this.ctx.epoch}-${e.hash}-${version}` : `${this.ctx.epoch}-${e.hash}`, resource: e.any })),
      removed_resources: removals,
      control_plane: { identifier: `faas-xds-server/${this.ctx.epoch}` },
    };
    const up = new Map(upserts.map((e) => [e.name, e.hash]));
    for (const [n, h] of up) st.clientHas.set(n, h);
    for (const n of removals) st.clientHas.delete(n);
    st.pending.set(nonce, { upserts: up, entries: upserts, removals, contentKey: key, routeFns, version });
    st.sentVersion = version;
    st.sentContentKey = key;
    st.sentContent = content.hashes;
    st.sentRouteFns = routeFns;
    this.finishSend(st, nonce, version, upserts.map((e) => e.name), removals, routeFns, msg);
    return true;
  }

  private finishSend(st: TypeState, nonce: string, version: string, names: string[], removed: string[], routeFns: ReadonlyMap<string, string>, msg: Buffer | DeltaDiscoveryResponse): void {
    st.lastNonce = nonce;
    st.mustAnswer = false;
    st.lastNacked = false;
    st.blockedByNack = false;
    st.newNames.clear();
    this.log.debug('response', { type: st.type, version, nonce, resources: names.length, removed: removed.length });
    this.ctx.emit({
      kind: 'response', nodeId: this.nodeId, protocol: this.protocol, streamId: this.streamId, type: st.type, version, nonce, names, removed,
      ...(st.type === 'route' ? { routeFns: [...routeFns.keys()].sort() } : {}),
    });
    this.write(msg);
  }

  private implicitlySubscribed(type: ResourceType, name: string): boolean {
    const st = this.types[type];
    if (subscribes(st.sub, name)) return true;
    if (this.isGrpc) {
      // gRPC clients walk LDS -> RDS -> CDS -> EDS; a type they will ask for next counts.
      if (type === 'route') return this.types.listener.acked.size > 0;
      return false;
    }
    // Envoy-like routers are wildcard on LDS/CDS, ask EDS for every cluster, RDS per listener.
    if (type === 'cluster' || type === 'listener') return true;
    if (type === 'endpoint') return this.types.cluster.acked.has(name);
    return this.types.listener.acked.size > 0;
  }

  /**
   * Whether this router runs the target snapshot's state for `fn`: for each type, the
   * resources it is (or is about to be) subscribed to are ACKed as in the target.
   */
  syncFor(fn: string, snap: Snapshot): SyncState {
    const fe = snap.functions.get(fn);
    const cn = clusterName(fn);
    /**
     * Clusters, endpoints and the listener are judged per resource: only this resource's
     * target content being one the node rejected fails the wait (another resource's
     * rejection does not block it). The route config is one resource for all functions.
     */
    const check = (type: ResourceType, ok: boolean, name?: string, target?: string): SyncState | null => {
      if (ok) return null;
      const st = this.types[type];
      if (type !== 'route') {
        const r = name === undefined ? undefined : this.rej?.rejection(type, name, target);
        return r !== undefined ? { state: 'nacked', type, message: r.message } : { state: 'pending', type };
      }
      if ((st.lastNacked || st.blockedByNack) && st.nack !== null) return { state: 'nacked', type, message: st.nack.message };
      return { state: 'pending', type };
    };
    const results: (SyncState | null)[] = [];
    if (this.implicitlySubscribed('cluster', cn)) results.push(check('cluster', this.types.cluster.acked.get(cn) === fe?.cluster.hash, cn, fe?.cluster.hash));
    if (fe !== undefined && this.implicitlySubscribed('endpoint', cn)) {
      results.push(check('endpoint', this.types.endpoint.acked.get(cn) === fe.cla.hash && !this.needsCla.has(cn), cn, fe.cla.hash));
    }
    const listener = this.isGrpc ? snap.listeners.grpc : snap.listeners.envoy;
    if (this.implicitlySubscribed('listener', listener.name)) results.push(check('listener', this.types.listener.acked.get(listener.name) === listener.hash, listener.name, listener.hash));
    if (this.implicitlySubscribed('route', XDS_NAMES.routeConfig)) results.push(check('route', this.types.route.ackedRouteFns.get(fn) === fe?.routeHash));
    const nacked = results.find((r) => r?.state === 'nacked');
    if (nacked) return nacked;
    const pending = results.find((r) => r !== null);
    return pending ?? { state: 'synced' };
  }

  /** The last version of `type` this router ACKed on this stream (null: none yet). */
  ackedVersion(type: ResourceType): string | null {
    return this.types[type].ackedVersion;
  }

  status(): RouterStatus {
    return {
      nodeId: this.nodeId,
      userAgent: this.node?.user_agent_name ?? '',
      protocol: this.protocol,
      connectedAt: this.connectedAt,
      types: RESOURCE_TYPES.map((t): RouterTypeStatus => {
        const st = this.types[t];
        // A NACK on an earlier stream of this node still holds back that content: shown too.
        const earlier = this.rej?.lastNack(t) ?? null;
        const nacked = st.nack ?? (earlier === null ? null : { version: earlier.version, message: earlier.message, at: earlier.at });
        return { type: t, typeUrl: TYPE_URLS[t], sentVersion: st.sentVersion, ackedVersion: st.ackedVersion, nacked, resourceCount: st.acked.size };
      }),
    };
  }
}
