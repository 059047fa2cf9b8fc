/**
 * ADS subscription the way Envoy does it: node on the first request of a stream only,
 * wildcard LDS and CDS, EDS for every EDS cluster (re-requested after each CDS update),
 * RDS for each listener's route_config_name. Every response is ACKed, or NACKed with a
 * clear error_detail while the previous state is kept. When the stream drops it
 * reconnects with backoff, keeping the last good configuration meanwhile.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@faas/contracts';
import { ResourceError } from './errors';
import {
  type AdsGrpcClient, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse, type DiscoveryRequest, type DiscoveryResponse,
  TYPE_URLS, type XdsKind, kindOfTypeUrl, loadEnvoyProtos,
} from './protos';
import { type DecodedResource, decodeResource } from './resources';
import { type XdsStore, edsNames, rdsNames, sameNames } from './store';
import type { AdsProtocol } from './bootstrap';

export interface AckNackEvent {
  kind: XdsKind;
  typeUrl: string;
  /** Version the response carried (SotW version_info, delta system_version_info). */
  version: string;
  nonce: string;
  accepted: boolean;
  /** NACK text sent as error_detail.message. */
  error?: string;
  resourceNames: string[];
}

export interface AdsClientOptions {
  address: string;
  protocol: AdsProtocol;
  nodeId: string;
  nodeCluster: string;
  store: XdsStore;
  logger: Logger;
  /** Called after a response was accepted and applied. */
  onApplied(kind: XdsKind): void;
  onAckNack(ev: AckNackEvent): void;
  onConnectedChange(connected: boolean): void;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

const USER_AGENT = 'envoy-standin';
/** google.rpc.Code INVALID_ARGUMENT, what Envoy puts in a NACK. */
const NACK_CODE = 3;

interface SotwTypeState { nonce: string; names: string[] }

export class AdsClient {
  private readonly client: AdsGrpcClient;
  private stream: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> | grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> | undefined;
  private closed = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private nodeSent = false;
  private connected = false;
  private sotw: Record<XdsKind, SotwTypeState> = this.freshSotw();
  /** Delta: names currently subscribed per type (EDS/RDS). */
  private deltaNames: Record<'endpoint' | 'route', string[]> = { endpoint: [], route: [] };

  constructor(private readonly o: AdsClientOptions) {
    const { ads } = loadEnvoyProtos();
    this.client = new ads(o.address, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.max_receive_message_length': -1,
      // Our own reconnect loop decides the pace; keep grpc's channel backoff short.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
  }

  start(): void {
    this.connect();
  }

  isConnected(): boolean {
    return this.connected;
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const s = this.stream;
    this.stream = undefined;
    if (s) { s.removeAllListeners(); s.on('error', () => undefined); s.cancel(); }
    this.client.close();
    this.setConnected(false);
  }

  private freshSotw(): Record<XdsKind, SotwTypeState> {
    return { listener: { nonce: '', names: [] }, route: { nonce: '', names: [] }, cluster: { nonce: '', names: [] }, endpoint: { nonce: '', names: [] } };
  }

  private setConnected(v: boolean): void {
    if (this.connected === v) return;
    this.connected = v;
    this.o.onConnectedChange(v);
  }

  private node(): Record<string, unknown> | undefined {
    if (this.nodeSent) return undefined;
    this.nodeSent = true;
    return { id: this.o.nodeId, cluster: this.o.nodeCluster, user_agent_name: USER_AGENT, user_agent_version: '0.1.0' };
  }

  private connect(): void {
    if (this.closed) return;
    this.nodeSent = false;
    this.sotw = this.freshSotw();
    const onEnd = (why: string, err?: Error) => {
      if (this.stream !== stream) return; // an old stream
      this.stream = undefined;
      this.setConnected(false);
      if (this.closed) return;
      const base = this.o.backoffBaseMs ?? 200;
      const max = this.o.backoffMaxMs ?? 5000;
      const delay = Math.min(max, base * 2 ** Math.min(this.attempt, 10)) * (0.5 + Math.random() / 2);
      this.attempt++;
      this.o.logger.warn('xds_stream_closed', { why, message: err?.message, retryInMs: Math.round(delay) });
      this.retryTimer = setTimeout(() => this.connect(), delay);
    };
    let stream: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> | grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
    if (this.o.protocol === 'sotw') {
      const s = this.client.StreamAggregatedResources();
      stream = s;
      this.stream = s;
      s.on('data', (resp: DiscoveryResponse) => { this.markUp(); this.onSotw(s, resp); });
      this.sotwInitial(s);
    } else {
      const s = this.client.DeltaAggregatedResources();
      stream = s;
      this.stream = s;
      s.on('data', (resp: DeltaDiscoveryResponse) => { this.markUp(); this.onDelta(s, resp); });
      this.deltaInitial(s);
    }
    stream.on('error', (err: Error) => onEnd('error', err));
    stream.on('end', () => onEnd('end'));
    // grpc-js reports "connected" only through traffic; the first response proves it.
    stream.on('metadata', () => this.markUp());
  }

  private markUp(): void {
    this.attempt = 0;
    this.setConnected(true);
  }

  // ---------------------------------------------------------------- state of the world

  private sendSotw(s: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>, kind: XdsKind, names: string[], error?: string): void {
    const st = this.sotw[kind];
    st.names = names;
    const req: DiscoveryRequest = {
      version_info: this.o.store.versions[kind],
      resource_names: names,
      type_url: TYPE_URLS[kind],
      response_nonce: st.nonce,
    };
    const node = this.node();
    if (node) req.node = node;
    if (error !== undefined) req.error_detail = { code: NACK_CODE, message: error };
    s.write(req);
  }

  private sotwInitial(s: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>): void {
    // Envoy initialises CDS before LDS; version_info carries what we already hold.
    this.sendSotw(s, 'cluster', []);
    this.sendSotw(s, 'listener', []);
    const eds = edsNames(this.o.store.clusters.values());
    if (eds.length > 0) this.sendSotw(s, 'endpoint', eds);
    const rds = rdsNames(this.o.store.listeners.values());
    if (rds.length > 0) this.sendSotw(s, 'route', rds);
  }

  private decodeAll(kind: XdsKind, resources: unknown[], where: (i: number) => string): DecodedResource[] {
    const out: DecodedResource[] = [];
    const seen = new Set<string>();
    resources.forEach((r, i) => {
      const d = decodeResource(kind, r, where(i));
      if (seen.has(d.name)) throw new ResourceError(`${where(i)}: duplicate resource name "${d.name}"`);
      seen.add(d.name);
      out.push(d);
    });
    return out;
  }

  private onSotw(s: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>, resp: DiscoveryResponse): void {
    const kind = kindOfTypeUrl(resp.type_url);
    if (kind === undefined) {
      // Not a type we subscribed to: NACK so the server knows (Envoy does the same).
      s.write({ type_url: resp.type_url, response_nonce: resp.nonce, version_info: '', error_detail: { code: NACK_CODE, message: `envoy-standin does not support type ${resp.type_url}` } });
      return;
    }
    const st = this.sotw[kind];
    st.nonce = resp.nonce;
    let decoded: DecodedResource[];
    try {
      decoded = this.decodeAll(kind, resp.resources ?? [], (i) => `resource index ${i}`);
    } catch (err) {
      const message = err instanceof ResourceError ? err.message : `cannot decode: ${(err as Error).message}`;
      this.o.logger.warn('xds_nack', { type: kind, version: resp.version_info, nonce: resp.nonce, message });
      this.sendSotw(s, kind, st.names, message);
      this.o.onAckNack({ kind, typeUrl: resp.type_url, version: resp.version_info, nonce: resp.nonce, accepted: false, error: message, resourceNames: [] });
      return;
    }
    this.o.store.applySotw(kind, resp.version_info, decoded);
    this.sendSotw(s, kind, st.names);
    this.o.logger.debug('xds_ack', { type: kind, version: resp.version_info, resources: decoded.length });
    this.o.onApplied(kind);
    this.o.onAckNack({ kind, typeUrl: resp.type_url, version: resp.version_info, nonce: resp.nonce, accepted: true, resourceNames: decoded.map((d) => d.name) });
    if (kind === 'cluster') {
      // Envoy re-requests EDS after every CDS update (cluster warming needs a fresh CLA).
      const eds = edsNames(this.o.store.clusters.values());
      if (eds.length > 0 || this.sotw.endpoint.names.length > 0) this.sendSotw(s, 'endpoint', eds);
    } else if (kind === 'listener') {
      const rds = rdsNames(this.o.store.listeners.values());
      if (!sameNames(rds, this.sotw.route.names)) this.sendSotw(s, 'route', rds);
    }
  }

  // ---------------------------------------------------------------- delta

  private deltaInitial(s: grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>): void {
    const store = this.o.store;
    const initial = (kind: XdsKind) => Object.fromEntries(store.resourceVersions[kind]);
    const first = (req: DeltaDiscoveryRequest) => {
      const node = this.node();
      if (node) req.node = node;
      s.write(req);
    };
    first({ type_url: TYPE_URLS.cluster, resource_names_subscribe: [], initial_resource_versions: initial('cluster') });
    first({ type_url: TYPE_URLS.listener, resource_names_subscribe: [], initial_resource_versions: initial('listener') });
    const eds = edsNames(store.clusters.values());
    this.deltaNames.endpoint = eds;
    if (eds.length > 0) first({ type_url: TYPE_URLS.endpoint, resource_names_subscribe: eds, initial_resource_versions: initial('endpoint') });
    const rds = rdsNames(store.listeners.values());
    this.deltaNames.route = rds;
    if (rds.length > 0) first({ type_url: TYPE_URLS.route, resource_names_subscribe: rds, initial_resource_versions: initial('route') });
  }

  private deltaResubscribe(s: grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>, kind: 'endpoint' | 'route', want: string[]): void {
    const have = this.deltaNames[kind];
    const sub = want.filter((n) => !have.includes(n));
    const unsub = have.filter((n) => !want.includes(n));
    this.deltaNames[kind] = want;
    if (sub.length === 0 && unsub.length === 0) return;
    s.write({ type_url: TYPE_URLS[kind], resource_names_subscribe: sub, resource_names_unsubscribe: unsub });
  }

  private onDelta(s: grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>, resp: DeltaDiscoveryResponse): void {
    const kind = kindOfTypeUrl(resp.type_url);
    if (kind === undefined) {
      s.write({ type_url: resp.type_url, response_nonce: resp.nonce, error_detail: { code: NACK_CODE, message: `envoy-standin does not support type ${resp.type_url}` } });
      return;
    }
    let decoded: Array<{ version: string; decoded: DecodedResource }>;
    try {
      const resources = resp.resources ?? [];
      const list = this.decodeAll(kind, resources.map((r) => r.resource), (i) => `resource "${resources[i]?.name ?? i}"`);
      decoded = list.map((d, i) => ({ version: resources[i]?.version ?? '', decoded: d }));
    } catch (err) {
      const message = err instanceof ResourceError ? err.message : `cannot decode: ${(err as Error).message}`;
      this.o.logger.warn('xds_nack', { type: kind, version: resp.system_version_info, nonce: resp.nonce, message });
      s.write({ type_url: resp.type_url, response_nonce: resp.nonce, error_detail: { code: NACK_CODE, message } });
      this.o.onAckNack({ kind, typeUrl: resp.type_url, version: resp.system_version_info, nonce: resp.nonce, accepted: false, error: message, resourceNames: [] });
      return;
    }
    this.o.store.applyDelta(kind, resp.system_version_info, decoded, resp.removed_resources ?? []);
    s.write({ type_url: resp.type_url, response_nonce: resp.nonce });
    this.o.onApplied(kind);
    this.o.onAckNack({ kind, typeUrl: resp.type_url, version: resp.system_version_info, nonce: resp.nonce, accepted: true, resourceNames: decoded.map((d) => d.decoded.name) });
    if (kind === 'cluster') this.deltaResubscribe(s, 'endpoint', edsNames(this.o.store.clusters.values()));
    else if (kind === 'listener') this.deltaResubscribe(s, 'route', rdsNames(this.o.store.listeners.values()));
  }
}
