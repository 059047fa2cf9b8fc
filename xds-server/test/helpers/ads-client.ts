/**
 * The lightweight Envoy-like ADS clients of the tests and the benchmark (SotW and Delta),
 * on @grpc/grpc-js with Envoy's own protos: wildcard CDS and LDS, EDS for every cluster held
 * (re-requested when a cluster is (re)sent, as Envoy does while warming), RDS for the route
 * configurations the listeners name, node only on the first request. They ACK everything
 * unless told to NACK, record every response, and hold each resource's bytes as received
 * (decoded only on demand, see HeldResource). The Envoy stand-in keeps its own decoder on
 * purpose: it is the independent one.
 */
import * as grpc from '@grpc/grpc-js';
import { TYPE_URLS, adsServiceDefinition, resourceTypeOfUrl, type ResourceType } from '../../src/proto';
import type { DiscoveryRequest } from '../../src/generated/envoy/service/discovery/v3/DiscoveryRequest';
import type { DiscoveryResponse__Output } from '../../src/generated/envoy/service/discovery/v3/DiscoveryResponse';
import type { DeltaDiscoveryRequest } from '../../src/generated/envoy/service/discovery/v3/DeltaDiscoveryRequest';
import type { DeltaDiscoveryResponse__Output } from '../../src/generated/envoy/service/discovery/v3/DeltaDiscoveryResponse';
import { HeldResource, routeConfigNames } from './ads-resource';

export { HeldResource, decodeAny } from './ads-resource';

/**
 * A client-side validator: returns an error message for a response it rejects, like a
 * router that NACKs every response carrying a resource it cannot accept.
 */
export type NackPredicate = (type: ResourceType, resources: readonly HeldResource[]) => string | undefined;

export interface NodeOptions {
  nodeId: string;
  userAgent?: string;
}

export interface ClientOptions {
  /** SotW only: follow CDS with EDS and LDS with RDS (default true). */
  autoFollow?: boolean;
  /** Responses kept in `responses` (oldest dropped first); the benchmark keeps few. */
  history?: number;
}

/** One response as received. Delta: `version` is system_version_info. */
export interface ResponseRecord {
  type: ResourceType;
  version: string;
  nonce: string;
  resources: HeldResource[];
  /** Delta only: removed_resources. */
  removed: string[];
}

type AdsStub = grpc.Client & {
  StreamAggregatedResources(): grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output>;
  DeltaAggregatedResources(): grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse__Output>;
};
type AdsCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ClientOptions) => AdsStub;

let ctor: AdsCtor | undefined;
function adsStub(port: number): AdsStub {
  ctor ??= grpc.makeClientConstructor(adsServiceDefinition() as unknown as grpc.ServiceDefinition, 'AggregatedDiscoveryService') as unknown as AdsCtor;
  // 1,000-function snapshots exceed gRPC's 4 MB default.
  return new ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
}

const ALL_TYPES: readonly ResourceType[] = ['listener', 'cluster', 'endpoint', 'route'];
const perType = <T>(f: () => T): Record<ResourceType, T> => ({ cluster: f(), endpoint: f(), listener: f(), route: f() });

/** State, NACK and wait logic shared by both protocols. */
abstract class AdsClientBase {
  readonly responses: ResponseRecord[] = [];
  /** What the client holds, per type and name. */
  readonly state: Record<ResourceType, Map<string, HeldResource>> = perType(() => new Map<string, HeldResource>());
  /** NACK every response for which this returns a message (see NackPredicate). */
  nackIf: NackPredicate | null = null;
  /** Number of NACKs this client sent. */
  nackCount = 0;
  closedWith: grpc.StatusObject | Error | null = null;
  protected readonly stub: AdsStub;
  protected sentNode = false;
  private readonly nacks = new Map<ResourceType, string>();
  private waiters: { pred: () => boolean; resolve(): void }[] = [];

  constructor(port: number, protected readonly node: NodeOptions, protected readonly opts: ClientOptions) {
    this.stub = adsStub(port);
  }

  protected watch(call: NodeJS.EventEmitter): void {
    call.on('error', (e: Error) => { this.closedWith = e; this.check(); });
    call.on('status', (s: grpc.StatusObject) => { this.closedWith ??= s; this.check(); });
  }

  protected nodeField(defaultAgent: string): DiscoveryRequest['node'] | undefined {
    if (this.sentNode) return undefined;
    this.sentNode = true;
    return { id: this.node.nodeId, user_agent_name: this.node.userAgent ?? defaultAgent };
  }

  protected record(r: ResponseRecord): void {
    this.responses.push(r);
    const keep = this.opts.history ?? Infinity;
    if (this.responses.length > keep) this.responses.splice(0, this.responses.length - keep);
  }

  /** Record a response; returns the NACK message if it is to be rejected. */
  protected received(r: ResponseRecord): string | undefined {
    this.record(r);
    const nack = this.nacks.get(r.type) ?? this.nackIf?.(r.type, r.resources);
    if (nack !== undefined) {
      this.nacks.delete(r.type);
      this.nackCount++;
    }
    return nack;
  }

  /** NACK the next response of `type` with `message`. */
  nackNext(type: ResourceType, message: string): void {
    this.nacks.set(type, message);
  }

  /** One held resource as its proto-loader object (for assertions on typed fields). */
  decode<T>(type: ResourceType, name: string): T | undefined {
    return this.state[type].get(name)?.decode<T>();
  }

  /** name -> hash per type: equal results mean equal client state, byte for byte. */
  hashes(): Record<ResourceType, Record<string, string>> {
    const out = {} as Record<ResourceType, Record<string, string>>;
    for (const t of ALL_TYPES) out[t] = Object.fromEntries([...this.state[t].entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, h]) => [n, h.hash]));
    return out;
  }

  /** Resolves when pred holds, checked after every response and on close; rejects after timeoutMs. */
  until(pred: (c: this) => boolean, what: string, timeoutMs = 3000): Promise<void> {
    const p = (): boolean => pred(this);
    if (p()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.pred !== p);
        reject(new Error(`${this.node.nodeId}: timed out after ${timeoutMs}ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push({ pred: p, resolve: () => { clearTimeout(t); resolve(); } });
    });
  }

  protected check(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred()) return true;
      w.resolve();
      return false;
    });
  }

  abstract start(): this;

  close(): void {
    this.stub.close();
  }
}

/** Envoy-like SotW client; `paused` makes it a stuck router (records, never answers). */
export class SotwAdsClient extends AdsClientBase {
  /** The latest version ACKed, per type. */
  readonly acked: Record<ResourceType, string> = perType(() => '');
  /** When true, responses are recorded but neither ACKed nor NACKed (a stuck router). */
  paused = false;
  private readonly call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output>;
  private readonly names: Record<ResourceType, string[]> = perType((): string[] => []);
  /** Nonce of the latest response per type (kept apart from `responses`, which may be trimmed). */
  private readonly nonces: Record<ResourceType, string> = perType(() => '');

  constructor(port: number, node: NodeOptions, opts: ClientOptions = {}) {
    super(port, node, opts);
    this.call = this.stub.StreamAggregatedResources();
    this.call.on('data', (r: DiscoveryResponse__Output) => this.onResponse(r));
    this.watch(this.call);
  }

  send(type: ResourceType, names: string[], version = '', nonce = '', errorMessage?: string): void {
    const req: DiscoveryRequest = { type_url: TYPE_URLS[type], resource_names: names, version_info: version, response_nonce: nonce };
    const node = this.nodeField('envoy-test');
    if (node !== undefined) req.node = node;
    if (errorMessage !== undefined) req.error_detail = { code: 3, message: errorMessage };
    this.call.write(req);
  }

  /** Envoy's start: wildcard CDS and LDS. */
  start(): this {
    this.send('cluster', []);
    this.send('listener', []);
    return this;
  }

  private onResponse(r: DiscoveryResponse__Output): void {
    const type = resourceTypeOfUrl(r.type_url);
    if (type === undefined) throw new Error(`unknown type url ${r.type_url}`);
    const resources = r.resources.map((a) => HeldResource.fromAny(type, a as { type_url: string; value: Buffer }));
    const rec: ResponseRecord = { type, version: r.version_info, nonce: r.nonce, resources, removed: [] };
    this.nonces[type] = r.nonce;
    if (this.paused) {
      this.record(rec);
      return this.check();
    }
    const nack = this.received(rec);
    if (nack !== undefined) {
      this.send(type, this.names[type], this.acked[type], r.nonce, nack);
      return this.check();
    }
    const prev = this.state[type];
    // SotW: CDS/LDS responses are complete; EDS/RDS carry only the names asked for.
    this.state[type] = new Map(resources.map((x) => [x.name, x]));
    this.acked[type] = r.version_info;
    this.send(type, this.names[type], r.version_info, r.nonce);
    if (this.opts.autoFollow ?? true) {
      if (type === 'cluster') {
        const want = [...this.state.cluster.keys()].sort();
        for (const n of [...this.state.endpoint.keys()]) if (!want.includes(n)) this.state.endpoint.delete(n);
        // Envoy re-requests EDS for (re)sent clusters; the server answers since CLAs are due.
        const resent = resources.some((x) => prev.get(x.name)?.bytes.equals(x.bytes) !== true);
        this.follow('endpoint', want, resent);
      }
      if (type === 'listener') this.follow('route', routeConfigNames(resources));
    }
    this.check();
  }

  /** Change the names of a type (sends a request when they differ, or when `force`d). */
  follow(type: ResourceType, names: string[], force = false): void {
    const same = JSON.stringify(names) === JSON.stringify(this.names[type]);
    if (same && !force && this.names[type].length > 0) return;
    if (names.length === 0 && this.names[type].length === 0) return;
    this.names[type] = names;
    this.send(type, names, this.acked[type], this.nonces[type]);
  }

  override close(): void {
    this.call.cancel();
    super.close();
  }
}

/** Delta ADS client: wildcard LDS/CDS, EDS per cluster, RDS per listener. */
export class DeltaAdsClient extends AdsClientBase {
  private readonly call: grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse__Output>;
  private readonly subscribed: Record<ResourceType, Set<string>> = perType(() => new Set<string>());

  constructor(port: number, node: NodeOptions, opts: ClientOptions = {}) {
    super(port, node, opts);
    this.call = this.stub.DeltaAggregatedResources();
    this.call.on('data', (r: DeltaDiscoveryResponse__Output) => this.onResponse(r));
    this.watch(this.call);
  }

  send(req: DeltaDiscoveryRequest): void {
    const node = this.nodeField('envoy-test-delta');
    if (node !== undefined) req.node = node;
    this.call.write(req);
  }

  start(): this {
    this.send({ type_url: TYPE_URLS.cluster, resource_names_subscribe: ['*'] });
    this.send({ type_url: TYPE_URLS.listener, resource_names_subscribe: ['*'] });
    return this;
  }

  private onResponse(r: DeltaDiscoveryResponse__Output): void {
    const type = resourceTypeOfUrl(r.type_url);
    if (type === undefined) throw new Error(`unknown type url ${r.type_url}`);
    const resources = r.resources
      .filter((x) => x.resource !== null)
      .map((x) => new HeldResource(type, x.name, (x.resource as { value: Buffer }).value, x.version));
    const nack = this.received({ type, version: r.system_version_info, nonce: r.nonce, resources, removed: r.removed_resources });
    if (nack !== undefined) {
      this.send({ type_url: TYPE_URLS[type], response_nonce: r.nonce, error_detail: { code: 3, message: nack } });
      return this.check();
    }
    for (const x of resources) this.state[type].set(x.name, x);
    for (const n of r.removed_resources) this.state[type].delete(n);
    this.send({ type_url: TYPE_URLS[type], response_nonce: r.nonce });
    if (type === 'cluster') {
      // Like Envoy: a (re)sent cluster re-subscribes its CLA so warming can finish.
      this.resubscribe('endpoint', [...this.state.cluster.keys()], resources.map((x) => x.name));
    }
    if (type === 'listener') this.resubscribe('route', routeConfigNames(this.state.listener.values()));
    this.check();
  }

  private resubscribe(type: ResourceType, names: string[], resent: string[] = []): void {
    const want = new Set(names);
    const sub = [...want].filter((n) => !this.subscribed[type].has(n));
    const again = resent.filter((n) => want.has(n) && this.subscribed[type].has(n));
    const unsub = [...this.subscribed[type]].filter((n) => !want.has(n));
    if (sub.length === 0 && unsub.length === 0 && again.length === 0) return;
    this.subscribed[type] = want;
    for (const n of unsub) this.state[type].delete(n);
    this.send({ type_url: TYPE_URLS[type], resource_names_subscribe: [...sub, ...again], resource_names_unsubscribe: unsub });
  }

  override close(): void {
    this.call.cancel();
    super.close();
  }
}
