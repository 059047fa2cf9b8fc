/**
 * The state of one ADS stream as the planner sees it (planner.ts), the events it is fed
 * and the effects it returns. No I/O here: the gRPC layer (router-stream.ts) turns frames
 * into PlanEvents and PlannedResponses into frames (xds-encoders.ts).
 */
import type { ResourceType } from './proto';
import type { FunctionEntry, ResourceEntry, RouteConfigCache, Snapshot } from './snapshot';
import { newSubscription, type Subscription } from './subscription';
import type { Content } from './stream-content';
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

export type SyncState = { state: 'synced' } | { state: 'pending'; type: ResourceType } | { state: 'nacked'; type: ResourceType; message: string };

/** One request of a stream, protocol fields already read from the frame. */
export type PlanEvent =
  | { kind: 'sotw-request'; type: ResourceType; nonce: string; names: readonly string[]; nack: { message: string } | null }
  | {
    kind: 'delta-request'; type: ResourceType; nonce: string; subscribe: readonly string[]; unsubscribe: readonly string[];
    initialVersions: Readonly<Record<string, string>>; nack: { message: string } | null;
  }
  /** A new snapshot, or retained resources changed: re-plan without a request. */
  | { kind: 'snapshot' };

/** What the planner needs from the control plane (all pure or deterministic). */
export interface PlannerEnv {
  epoch: string;
  /** Entry of a function removed from desired state but maybe still held by a router. */
  retired(fn: string): FunctionEntry | undefined;
  routeConfigs: RouteConfigCache;
  nextVersion(): string;
  now(): number;
}

/** A response decided by the planner, before protocol encoding. */
export type PlannedResponse =
  | { protocol: 'sotw'; type: ResourceType; version: string; nonce: string; content: Content; routeFns: ReadonlyMap<string, string> }
  | {
    protocol: 'delta'; type: ResourceType; version: string; nonce: string; upserts: readonly ResourceEntry[]; removals: readonly string[];
    /** Names re-sent with unchanged content: they get a fresh resource version. */
    forced: ReadonlySet<string>; routeFns: ReadonlyMap<string, string>;
  };

/** Effects of one planning step, in the order they happen. */
export type Effect =
  | { kind: 'send'; response: PlannedResponse }
  | { kind: 'ack'; type: ResourceType; version: string; nonce: string }
  | { kind: 'nack'; type: ResourceType; version: string; nonce: string; message: string; rejected: string[] }
  | { kind: 'stale'; type: ResourceType; nonce: string };

export interface Pending { upserts: Map<string, string>; entries: ResourceEntry[]; removals: string[]; contentKey: string; routeFns: ReadonlyMap<string, string>; version: string }

/** A type's content as last computed, valid while snapshot and subscription are unchanged. */
export interface ContentMemo { snap: Snapshot; subGen: number; content: Content }

export const NO_ROUTE_FNS: ReadonlyMap<string, string> = new Map();

export interface TypeState {
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

export function newTypeState(type: ResourceType): TypeState {
  return {
    type, requested: false, mustAnswer: false, sub: newSubscription(), subGen: 0, memo: null, newNames: new Set(),
    lastNonce: null, sentVersion: null, sentContent: new Map(), sentEntries: new Map(), sentContentKey: null, sentRouteFns: new Map(),
    acked: new Map(), ackedRouteFns: new Map(), ackedVersion: null, ackedContentKey: null,
    nack: null, nackedContentKey: null, lastNacked: false, blockedByNack: false, clientHas: new Map(), pending: new Map(),
  };
}

/** Everything the planner knows about one stream. Owned by the planner: only it mutates it. */
export interface StreamState {
  readonly protocol: Protocol;
  /** gRPC xDS client (walks LDS -> RDS -> CDS -> EDS) rather than an Envoy-like router. */
  readonly isGrpc: boolean;
  /** Rejections of this node id (shared with its other streams, survives reconnects). */
  readonly rej: NodeRejections;
  readonly types: Record<ResourceType, TypeState>;
  nonceSeq: number;
  /** Functions whose routes this stream has been given (make-before-break gate). */
  readonly released: Set<string>;
  /** Snapshot `released` was last pruned against, and a counter of its changes. */
  releasedFor: Snapshot | null;
  releasedGen: number;
  routeMemo: { snap: Snapshot; releasedGen: number; subGen: number; content: Content; routeFns: ReadonlyMap<string, string> } | null;
  /** Clusters sent in CDS whose CLA has not been sent since. */
  readonly needsCla: Set<string>;
  /** Functions removed from the target whose cluster this router may still need (still routed). */
  retained: ReadonlySet<string>;
}

export function newStreamState(protocol: Protocol, isGrpc: boolean, rej: NodeRejections): StreamState {
  return {
    protocol, isGrpc, rej,
    types: { cluster: newTypeState('cluster'), endpoint: newTypeState('endpoint'), listener: newTypeState('listener'), route: newTypeState('route') },
    nonceSeq: 0, released: new Set(), releasedFor: null, releasedGen: 0, routeMemo: null, needsCla: new Set(), retained: new Set(),
  };
}

/** Bookkeeping common to every response sent of a type. */
export function markSent(st: TypeState, nonce: string): void {
  st.lastNonce = nonce;
  st.mustAnswer = false;
  st.lastNacked = false;
  st.blockedByNack = false;
  st.newNames.clear();
}
