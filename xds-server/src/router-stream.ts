/**
 * One ADS stream from one router (Envoy, the stand-in, or a gRPC xDS client), SotW or
 * delta: the I/O shell around the planner. It turns request frames into planner events,
 * the planner's responses into frames (xds-encoders.ts), and its ACK/NACK effects into
 * log lines and observability events. The rules live in planner.ts.
 */
import { FaasError, type Logger, type RouterStatus } from '@faas/contracts';
import { resourceTypeOfUrl, type ResourceType } from './proto';
import type { Snapshot } from './snapshot';
import { plan } from './planner';
import { syncOf, typeStatuses } from './stream-sync';
import { encodeDelta, encodeSotw, responseNames } from './xds-encoders';
import { newStreamState, type Effect, type PlanEvent, type PlannerEnv, type Protocol, type StreamState, type SyncState, type XdsEvent } from './stream-state';
import type { NodeRejections } from './rejections';
import type { DiscoveryRequest__Output } from './generated/envoy/service/discovery/v3/DiscoveryRequest';
import type { DiscoveryResponse } from './generated/envoy/service/discovery/v3/DiscoveryResponse';
import type { DeltaDiscoveryRequest__Output } from './generated/envoy/service/discovery/v3/DeltaDiscoveryRequest';
import type { DeltaDiscoveryResponse } from './generated/envoy/service/discovery/v3/DeltaDiscoveryResponse';
import type { Node__Output } from './generated/envoy/config/core/v3/Node';

export type { Protocol, SyncState, XdsEvent } from './stream-state';

/** What a stream needs from the control plane. */
export interface StreamContext extends PlannerEnv {
  snapshot(): Snapshot;
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

const NO_RETAINED: ReadonlySet<string> = new Set();

let streamSeq = 0;

export class RouterStream {
  readonly streamId = ++streamSeq;
  readonly protocol: Protocol;
  readonly connectedAt = Date.now();
  node: Node__Output | null = null;
  /** Created with the node (the first request): the planner's state of this stream. */
  private state: StreamState | null = null;
  private log: Logger;
  closed = false;

  /** `write` gets SotW responses already encoded (a Buffer), delta responses as objects. */
  constructor(protocol: Protocol, private readonly ctx: StreamContext, private readonly write: (msg: DiscoveryResponse | DeltaDiscoveryResponse | Buffer) => void) {
    this.protocol = protocol;
    this.log = ctx.logger.child({ streamId: this.streamId, protocol });
  }

  get nodeId(): string {
    return this.node?.id ?? '';
  }

  get isGrpc(): boolean {
    return this.state?.isGrpc ?? false;
  }

  /** Functions removed from the target whose cluster this router may still need (still routed). */
  get retainedFunctions(): ReadonlySet<string> {
    return this.state?.retained ?? NO_RETAINED;
  }

  private adoptNode(node: Node__Output | null): StreamState {
    if (this.state !== null) return this.state;
    if (node === null || typeof node.id !== 'string' || node.id === '') {
      throw new StreamProtocolError('the first request on an ADS stream must carry node.id');
    }
    this.node = node;
    const isGrpc = /^grpc/i.test(node.user_agent_name ?? '');
    this.state = newStreamState(this.protocol, isGrpc, this.ctx.rejections(node.id));
    this.log = this.ctx.logger.child({ streamId: this.streamId, protocol: this.protocol, nodeId: node.id });
    this.log.info('router_connected', { userAgent: node.user_agent_name, grpcClient: isGrpc });
    this.ctx.emit({ kind: 'stream-open', nodeId: node.id, userAgent: node.user_agent_name, protocol: this.protocol, streamId: this.streamId });
    return this.state;
  }

  private typeOf(url: string): ResourceType | undefined {
    const t = resourceTypeOfUrl(url);
    if (t === undefined) this.log.warn('unsupported_type_url', { typeUrl: url });
    return t;
  }

  onSotwRequest(req: DiscoveryRequest__Output): void {
    const s = this.adoptNode(req.node);
    const type = this.typeOf(req.type_url);
    if (type === undefined) return;
    const nack = req.error_detail !== null && req.error_detail !== undefined ? { message: req.error_detail.message ?? '' } : null;
    this.step(s, { kind: 'sotw-request', type, nonce: req.response_nonce ?? '', names: req.resource_names ?? [], nack });
  }

  onDeltaRequest(req: DeltaDiscoveryRequest__Output): void {
    const s = this.adoptNode(req.node);
    const type = this.typeOf(req.type_url);
    if (type === undefined) return;
    const nack = req.error_detail !== null && req.error_detail !== undefined ? { message: req.error_detail.message ?? '' } : null;
    this.step(s, {
      kind: 'delta-request', type, nonce: req.response_nonce ?? '', subscribe: req.resource_names_subscribe ?? [],
      unsubscribe: req.resource_names_unsubscribe ?? [], initialVersions: req.initial_resource_versions ?? {}, nack,
    });
  }

  /** Re-plan against the current snapshot (a new snapshot, or retained entries changed). */
  reconcile(): void {
    if (this.closed || this.state === null) return;
    this.step(this.state, { kind: 'snapshot' });
  }

  private step(s: StreamState, ev: PlanEvent): void {
    for (const e of plan(this.ctx, this.ctx.snapshot(), s, ev)) this.apply(e);
  }

  private apply(e: Effect): void {
    const base = { nodeId: this.nodeId, protocol: this.protocol, streamId: this.streamId };
    if (e.kind === 'stale') {
      this.ctx.emit({ kind: 'stale', ...base, type: e.type, nonce: e.nonce });
    } else if (e.kind === 'ack') {
      this.ctx.emit({ kind: 'ack', ...base, type: e.type, version: e.version, nonce: e.nonce });
    } else if (e.kind === 'nack') {
      this.log.warn('nack', { type: e.type, version: e.version, message: e.message, rejected: e.rejected });
      this.ctx.emit({ kind: 'nack', ...base, type: e.type, version: e.version, nonce: e.nonce, message: e.message });
    } else {
      const r = e.response;
      const { names, removed } = responseNames(r);
      const msg = r.protocol === 'sotw' ? encodeSotw(r, this.ctx.epoch) : encodeDelta(r, this.ctx.epoch);
      this.log.debug('response', { type: r.type, version: r.version, nonce: r.nonce, resources: names.length, removed: removed.length });
      this.ctx.emit({
        kind: 'response', ...base, type: r.type, version: r.version, nonce: r.nonce, names, removed,
        ...(r.type === 'route' ? { routeFns: [...r.routeFns.keys()].sort() } : {}),
      });
      this.write(msg);
    }
  }

  /** Whether this router runs the target snapshot's state for `fn`. */
  syncFor(fn: string, snap: Snapshot): SyncState {
    // No request yet: nothing of any type is ACKed (waits see it as pending on clusters).
    return this.state === null ? { state: 'pending', type: 'cluster' } : syncOf(this.state, fn, snap);
  }

  /** The last version of `type` this router ACKed on this stream (null: none yet). */
  ackedVersion(type: ResourceType): string | null {
    return this.state?.types[type].ackedVersion ?? null;
  }

  status(): RouterStatus {
    return { nodeId: this.nodeId, userAgent: this.node?.user_agent_name ?? '', protocol: this.protocol, connectedAt: this.connectedAt, types: typeStatuses(this.state) };
  }
}
