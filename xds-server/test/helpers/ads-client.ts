/**
 * Lightweight Envoy-like ADS clients for tests and the benchmark, written on @grpc/grpc-js
 * with Envoy's own protos: wildcard LDS/CDS, EDS for every cluster received, RDS for the
 * listener's route config, node only on the first request, ACK everything (or NACK what
 * a test tells it to). One SotW and one Delta variant, with the same observable state.
 */
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { XDS_NAMES } from '@faas/contracts';
import { TYPE_URLS, adsServiceDefinition, decodeMessage, fullNameOfTypeUrl, resourceTypeOfUrl, type ResourceType } from '../../src/proto';
import type { DiscoveryRequest } from '../../src/generated/envoy/service/discovery/v3/DiscoveryRequest';
import type { DiscoveryResponse__Output } from '../../src/generated/envoy/service/discovery/v3/DiscoveryResponse';
import type { DeltaDiscoveryRequest } from '../../src/generated/envoy/service/discovery/v3/DeltaDiscoveryRequest';
import type { DeltaDiscoveryResponse__Output } from '../../src/generated/envoy/service/discovery/v3/DeltaDiscoveryResponse';

/** What the client holds of one resource. */
export interface HeldResource {
  /** sha1 of the resource's encoded bytes (identical bytes => identical state). */
  hash: string;
  bytes: Buffer;
}

export interface AdsClientOptions {
  grpcPort: number;
  nodeId: string;
  userAgent?: string;
  host?: string;
  /** Return an error message to NACK a response of this type, undefined to ACK. */
  nackIf?: (type: ResourceType, names: string[]) => string | undefined;
}

export interface AdsClientEvent {
  type: ResourceType;
  kind: 'response';
  version: string;
  names: string[];
  removed: string[];
  at: number;
}

/**
 * Name of an encoded Listener/RouteConfiguration/Cluster/ClusterLoadAssignment: field 1 is
 * the name (cluster_name for a CLA) in all four. Protobuf writes fields in number order, so
 * it is the first field; reading it avoids decoding thousands of resources in the benchmark.
 */
export function resourceName(bytes: Buffer): string | undefined {
  if (bytes.length < 2 || bytes[0] !== 0x0a) return undefined;
  let len = 0;
  let shift = 0;
  let i = 1;
  for (; i < bytes.length && i < 6; i++) {
    const b = bytes[i]!;
    len |= (b & 0x7f) << shift;
    shift += 7;
    if ((b & 0x80) === 0) break;
  }
  i++;
  if (i + len > bytes.length) return undefined;
  return bytes.toString('utf8', i, i + len);
}

function sha(b: Buffer): string {
  return createHash('sha1').update(b).digest('hex');
}

type AdsCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ClientOptions) => grpc.Client & {
  StreamAggregatedResources(): grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output>;
  DeltaAggregatedResources(): grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse__Output>;
};

let ctor: AdsCtor | undefined;
function adsClientCtor(): AdsCtor {
  ctor ??= grpc.makeClientConstructor(adsServiceDefinition() as unknown as grpc.ServiceDefinition, 'AggregatedDiscoveryService') as unknown as AdsCtor;
  return ctor;
}

const ALL_TYPES: ResourceType[] = ['listener', 'cluster', 'endpoint', 'route'];

/** Shared state/wait logic of both variants. */
abstract class BaseAdsClient extends EventEmitter {
  readonly held: Record<ResourceType, Map<string, HeldResource>> = {
    listener: new Map(), cluster: new Map(), endpoint: new Map(), route: new Map(),
  };
  readonly versions: Partial<Record<ResourceType, string>> = {};
  readonly log: AdsClientEvent[] = [];
  protected readonly client: InstanceType<AdsCtor>;
  protected closed = false;
  error: Error | null = null;

  constructor(protected readonly opts: AdsClientOptions) {
    super();
    this.setMaxListeners(0);
    this.client = new (adsClientCtor())(`${opts.host ?? '127.0.0.1'}:${opts.grpcPort}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
  }

  protected node(): { id: string; cluster: string; user_agent_name: string; locality: object } {
    return { id: this.opts.nodeId, cluster: 'faas-test', user_agent_name: this.opts.userAgent ?? 'faas-test-ads', locality: {} };
  }

  /** Cluster names whose CLA the client wants (like Envoy: one per cluster held). */
  protected wantedEds(): string[] {
    return [...this.held.cluster.keys()].sort();
  }

  /** Decode one held resource into its proto-loader object (for assertions). */
  decode<T>(type: ResourceType, name: string): T | undefined {
    const h = this.held[type].get(name);
    return h === undefined ? undefined : decodeMessage<T>(fullNameOfTypeUrl(TYPE_URLS[type]), h.bytes);
  }

  /** name -> hash per type: equal snapshots mean equal client state. */
  state(): Record<ResourceType, Record<string, string>> {
    const out = {} as Record<ResourceType, Record<string, string>>;
    for (const t of ALL_TYPES) out[t] = Object.fromEntries([...this.held[t].entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, h]) => [n, h.hash]));
    return out;
  }

  /** Resolve when pred() holds (checked after every response), reject after timeoutMs. */
  waitFor(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (pred()) {
          cleanup();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.opts.nodeId}: timed out after ${timeoutMs}ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('updated', check);
      };
      this.on('updated', check);
    });
  }

  protected record(type: ResourceType, version: string, names: string[], removed: string[]): void {
    const e: AdsClientEvent = { type, kind: 'response', version, names, removed, at: performance.now() };
    this.log.push(e);
    if (this.log.length > 10_000) this.log.splice(0, 5000);
  }

  abstract start(): void;
  abstract close(): void;
}

/** State-of-the-world ADS client (Envoy's default). */
export class SotwAdsClient extends BaseAdsClient {
  private stream: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output> | null = null;
  private sentNode = false;
  private readonly subscribed: Record<ResourceType, string[] | null> = { listener: null, cluster: null, endpoint: null, route: null };
  private readonly lastNonce: Partial<Record<ResourceType, string>> = {};

  start(): void {
    const s = this.client.StreamAggregatedResources();
    this.stream = s;
    s.on('data', (res: DiscoveryResponse__Output) => this.onResponse(res));
    s.on('error', (err: Error) => {
      if (!this.closed) {
        this.error = err;
        this.emit('stream-error', err);
      }
    });
    s.on('end', () => undefined);
    this.request('listener', []);
    this.request('cluster', []);
  }

  private request(type: ResourceType, names: string[], ack?: { version: string; nonce: string; error?: string }): void {
    if (this.stream === null || this.closed) return;
    this.subscribed[type] = names;
    const req: DiscoveryRequest = {
      type_url: TYPE_URLS[type],
      resource_names: names,
      version_info: ack?.version ?? this.versions[type] ?? '',
      response_nonce: ack?.nonce ?? this.lastNonce[type] ?? '',
    };
    if (!this.sentNode) {
      req.node = this.node();
      this.sentNode = true;
    }
    if (ack?.error !== undefined) req.error_detail = { code: 3, message: ack.error };
    this.stream.write(req);
  }

  private onResponse(res: DiscoveryResponse__Output): void {
    const type = resourceTypeOfUrl(res.type_url);
    if (type === undefined) return;
    const names: string[] = [];
    const next = new Map<string, HeldResource>();
    for (const any of res.resources) {
      const bytes = Buffer.from(any.value);
      let name = resourceName(bytes);
      if (name === undefined) {
        const decoded = decodeMessage<{ name?: string; cluster_name?: string }>(fullNameOfTypeUrl(any.type_url), bytes);
        name = (type === 'endpoint' ? decoded.cluster_name : decoded.name) ?? '';
      }
      names.push(name);
      next.set(name, { hash: sha(bytes), bytes });
    }
    this.record(type, res.version_info, names, []);
    const nack = this.opts.nackIf?.(type, names);
    if (nack !== undefined) {
      this.lastNonce[type] = res.nonce;
      this.request(type, this.subscribed[type] ?? [], { version: this.versions[type] ?? '', nonce: res.nonce, error: nack });
      this.emit('updated');
      return;
    }
    // SotW: LDS/CDS responses are complete; EDS/RDS carry only the named resources we asked for.
    const prev = this.held[type];
    const changed = [...next].some(([n, h]) => prev.get(n)?.hash !== h.hash);
    this.held[type] = next;
    this.versions[type] = res.version_info;
    this.lastNonce[type] = res.nonce;
    this.request(type, this.subscribed[type] ?? [], { version: res.version_info, nonce: res.nonce });
    if (type === 'cluster') {
      const want = this.wantedEds();
      for (const n of [...this.held.endpoint.keys()]) if (!want.includes(n)) this.held.endpoint.delete(n);
      if (JSON.stringify(want) !== JSON.stringify(this.subscribed.endpoint) || changed) {
        // Envoy re-requests EDS for (re)sent clusters; the server answers since CLAs are due.
        this.request('endpoint', want);
      }
    }
    if (type === 'listener' && this.subscribed.route === null && next.size > 0) this.request('route', [XDS_NAMES.routeConfig]);
    this.emit('updated');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream?.cancel();
    this.client.close();
  }
}

/** Incremental (delta) ADS client. */
export class DeltaAdsClient extends BaseAdsClient {
  private stream: grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse__Output> | null = null;
  private sentNode = false;
  private edsSubscribed = new Set<string>();
  private routeSubscribed = false;

  start(): void {
    const s = this.client.DeltaAggregatedResources();
    this.stream = s;
    s.on('data', (res: DeltaDiscoveryResponse__Output) => this.onResponse(res));
    s.on('error', (err: Error) => {
      if (!this.closed) {
        this.error = err;
        this.emit('stream-error', err);
      }
    });
    s.on('end', () => undefined);
    this.write({ type_url: TYPE_URLS.listener, resource_names_subscribe: ['*'] });
    this.write({ type_url: TYPE_URLS.cluster, resource_names_subscribe: ['*'] });
  }

  private write(req: DeltaDiscoveryRequest): void {
    if (this.stream === null || this.closed) return;
    if (!this.sentNode) {
      req.node = this.node();
      this.sentNode = true;
    }
    this.stream.write(req);
  }

  private onResponse(res: DeltaDiscoveryResponse__Output): void {
    const type = resourceTypeOfUrl(res.type_url);
    if (type === undefined) return;
    const names = res.resources.map((r) => r.name);
    this.record(type, res.system_version_info, names, res.removed_resources);
    const nack = this.opts.nackIf?.(type, names);
    if (nack !== undefined) {
      this.write({ type_url: res.type_url, response_nonce: res.nonce, error_detail: { code: 3, message: nack } });
      this.emit('updated');
      return;
    }
    for (const r of res.resources) {
      if (r.resource === null) continue;
      const bytes = Buffer.from(r.resource.value);
      this.held[type].set(r.name, { hash: sha(bytes), bytes });
    }
    for (const n of res.removed_resources) this.held[type].delete(n);
    this.versions[type] = res.system_version_info;
    this.write({ type_url: res.type_url, response_nonce: res.nonce });
    if (type === 'cluster') {
      const want = new Set(this.wantedEds());
      const sub = [...want].filter((n) => !this.edsSubscribed.has(n));
      const unsub = [...this.edsSubscribed].filter((n) => !want.has(n));
      // Like Envoy: a (re)sent cluster re-subscribes its CLA so warming can finish.
      const resent = res.resources.map((r) => r.name).filter((n) => want.has(n) && this.edsSubscribed.has(n));
      for (const n of unsub) this.held.endpoint.delete(n);
      if (sub.length > 0 || unsub.length > 0 || resent.length > 0) {
        this.edsSubscribed = want;
        this.write({ type_url: TYPE_URLS.endpoint, resource_names_subscribe: [...sub, ...resent], resource_names_unsubscribe: unsub });
      }
    }
    if (type === 'listener' && !this.routeSubscribed && this.held.listener.size > 0) {
      this.routeSubscribed = true;
      this.write({ type_url: TYPE_URLS.route, resource_names_subscribe: [XDS_NAMES.routeConfig] });
    }
    this.emit('updated');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream?.cancel();
    this.client.close();
  }
}
