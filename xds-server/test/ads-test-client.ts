/**
 * Small ADS clients for unit tests (SotW and delta), written with @grpc/grpc-js over the
 * same loaded protos. Envoy-like by default: wildcard LDS/CDS, then EDS per cluster and RDS.
 * They record every response and can ACK automatically or NACK on demand.
 */
import * as grpc from '@grpc/grpc-js';
import { packageDefinition, TYPE_URLS, type ResourceType } from '../src/index';
import { decodeMessage, fullNameOfTypeUrl } from '../src/proto';
import type { DiscoveryResponse__Output } from '../src/generated/envoy/service/discovery/v3/DiscoveryResponse';
import type { DiscoveryRequest } from '../src/generated/envoy/service/discovery/v3/DiscoveryRequest';
import type { DeltaDiscoveryResponse__Output } from '../src/generated/envoy/service/discovery/v3/DeltaDiscoveryResponse';
import type { DeltaDiscoveryRequest } from '../src/generated/envoy/service/discovery/v3/DeltaDiscoveryRequest';

type Ctor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;

function adsClientCtor(): Ctor {
  const obj = grpc.loadPackageDefinition(packageDefinition()) as unknown as {
    envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: Ctor } } } };
  };
  return obj.envoy.service.discovery.v3.AggregatedDiscoveryService;
}

export function typeOfUrl(url: string): ResourceType {
  for (const [k, v] of Object.entries(TYPE_URLS)) if (v === url) return k as ResourceType;
  throw new Error(`unknown type url ${url}`);
}

export interface DecodedResource {
  name: string;
  body: Record<string, unknown>;
}

function resourceName(type: ResourceType, body: Record<string, unknown>): string {
  return String(type === 'endpoint' ? body.cluster_name : body.name);
}

/** Decode an Any and, recursively, every Any inside it (proto-loader leaves them as bytes). */
export function decodeAny(any: { type_url: string; value: Buffer }): Record<string, unknown> {
  return expandAnys(decodeMessage<Record<string, unknown>>(fullNameOfTypeUrl(any.type_url), any.value)) as Record<string, unknown>;
}

function expandAnys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(expandAnys);
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  const o = v as Record<string, unknown>;
  if (typeof o.type_url === 'string' && Buffer.isBuffer(o.value) && Object.keys(o).length === 2) {
    return { '@type': o.type_url, ...(decodeAny({ type_url: o.type_url, value: o.value }) ) };
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = expandAnys(x);
  return out;
}

export interface SotwRecord {
  type: ResourceType;
  version: string;
  nonce: string;
  resources: DecodedResource[];
}

/**
 * A client-side validator: returns an error message for a response it rejects, like a
 * router that NACKs every response carrying a resource it cannot accept.
 */
export type NackPredicate = (type: ResourceType, resources: readonly DecodedResource[]) => string | undefined;

export interface NodeOptions {
  nodeId: string;
  userAgent?: string;
}

/** Resolves when pred holds, checked after every event; rejects after timeoutMs. */
class Waiters {
  private list: { pred: () => boolean; resolve(): void }[] = [];
  check(): void {
    this.list = this.list.filter((w) => {
      if (w.pred()) {
        w.resolve();
        return false;
      }
      return true;
    });
  }
  until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.list = this.list.filter((w) => w.pred !== pred);
        reject(new Error(`timed out after ${timeoutMs}ms waiting for ${what}`));
      }, timeoutMs);
      this.list.push({ pred, resolve: () => { clearTimeout(t); resolve(); } });
    });
  }
}

/** Envoy-like SotW client. nackNext(type, msg) makes it NACK the next response of that type. */
export class SotwTestClient {
  readonly responses: SotwRecord[] = [];
  readonly state: Record<ResourceType, Map<string, DecodedResource>> = { cluster: new Map(), endpoint: new Map(), listener: new Map(), route: new Map() };
  readonly acked: Record<ResourceType, string> = { cluster: '', endpoint: '', listener: '', route: '' };
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output>;
  private readonly names: Record<ResourceType, string[]> = { cluster: [], endpoint: [], listener: [], route: [] };
  private readonly nacks = new Map<ResourceType, string>();
  private readonly waiters = new Waiters();
  private sentNode = false;
  /** When true, responses are recorded but neither ACKed nor NACKed (a stuck router). */
  paused = false;
  /** NACK every response for which this returns a message (see NackPredicate). */
  nackIf: NackPredicate | null = null;
  /** Number of NACKs this client sent. */
  nackCount = 0;
  closedWith: grpc.StatusObject | Error | null = null;

  constructor(port: number, private readonly node: NodeOptions, opts: { autoFollow?: boolean } = {}) {
    const Ctor = adsClientCtor();
    this.client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    this.call = (this.client as unknown as { StreamAggregatedResources(): grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output> }).StreamAggregatedResources();
    this.call.on('data', (r: DiscoveryResponse__Output) => this.onResponse(r, opts.autoFollow ?? true));
    this.call.on('error', (e: Error) => { this.closedWith = e; this.waiters.check(); });
    this.call.on('status', (s: grpc.StatusObject) => { this.closedWith ??= s; this.waiters.check(); });
  }

  send(type: ResourceType, names: string[], version = '', nonce = '', errorMessage?: string): void {
    const req: DiscoveryRequest = { type_url: TYPE_URLS[type], resource_names: names, version_info: version, response_nonce: nonce };
    if (!this.sentNode) {
      req.node = { id: this.node.nodeId, user_agent_name: this.node.userAgent ?? 'envoy-test' };
      this.sentNode = true;
    }
    if (errorMessage !== undefined) req.error_detail = { code: 3, message: errorMessage };
    this.call.write(req);
  }

  /** Envoy's start: wildcard CDS and LDS. */
  start(): this {
    this.send('cluster', []);
    this.send('listener', []);
    return this;
  }

  nackNext(type: ResourceType, message: string): void {
    this.nacks.set(type, message);
  }

  private onResponse(r: DiscoveryResponse__Output, follow: boolean): void {
    const type = typeOfUrl(r.type_url);
    const resources = r.resources.map((a) => {
      const body = decodeAny(a as { type_url: string; value: Buffer });
      return { name: resourceName(type, body), body };
    });
    this.responses.push({ type, version: r.version_info, nonce: r.nonce, resources });
    if (this.paused) {
      this.waiters.check();
      return;
    }
    const nack = this.nacks.get(type) ?? this.nackIf?.(type, resources);
    if (nack !== undefined) {
      this.nacks.delete(type);
      this.nackCount++;
      this.send(type, this.names[type], this.acked[type], r.nonce, nack);
      this.waiters.check();
      return;
    }
    this.state[type] = new Map(resources.map((x) => [x.name, x]));
    this.acked[type] = r.version_info;
    this.send(type, this.names[type], r.version_info, r.nonce);
    if (follow) {
      if (type === 'cluster') this.follow('endpoint', [...this.state.cluster.keys()].sort());
      if (type === 'listener') {
        const rds = new Set<string>();
        for (const l of resources) {
          const s = JSON.stringify(l.body);
          const m = /"route_config_name":"([^"]+)"/.exec(s);
          if (m) rds.add(m[1]!);
        }
        this.follow('route', [...rds].sort());
      }
    }
    this.waiters.check();
  }

  /** Change the names of a type (sends a request when they differ). */
  follow(type: ResourceType, names: string[]): void {
    if (JSON.stringify(names) === JSON.stringify(this.names[type]) && this.names[type].length > 0) return;
    if (names.length === 0 && this.names[type].length === 0) return;
    this.names[type] = names;
    const last = [...this.responses].reverse().find((x) => x.type === type);
    this.send(type, names, this.acked[type], last?.nonce ?? '');
  }

  until(pred: (c: this) => boolean, what: string, timeoutMs = 3000): Promise<void> {
    return this.waiters.until(() => pred(this), timeoutMs, what);
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

export interface DeltaRecord {
  type: ResourceType;
  systemVersion: string;
  nonce: string;
  resources: { name: string; version: string; body: Record<string, unknown> }[];
  removed: string[];
}

/** Delta ADS client: wildcard LDS/CDS, EDS per cluster, RDS per listener. */
export class DeltaTestClient {
  readonly responses: DeltaRecord[] = [];
  readonly state: Record<ResourceType, Map<string, { version: string; body: Record<string, unknown> }>> = { cluster: new Map(), endpoint: new Map(), listener: new Map(), route: new Map() };
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse__Output>;
  private readonly subscribed: Record<ResourceType, Set<string>> = { cluster: new Set(), endpoint: new Set(), listener: new Set(), route: new Set() };
  private readonly waiters = new Waiters();
  private readonly nacks = new Map<ResourceType, string>();
  private sentNode = false;
  /** NACK every response for which this returns a message (see NackPredicate). */
  nackIf: NackPredicate | null = null;
  nackCount = 0;

  constructor(port: number, private readonly node: NodeOptions) {
    const Ctor = adsClientCtor();
    this.client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    this.call = (this.client as unknown as { DeltaAggregatedResources(): grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse__Output> }).DeltaAggregatedResources();
    this.call.on('data', (r: DeltaDiscoveryResponse__Output) => this.onResponse(r));
    this.call.on('error', () => this.waiters.check());
  }

  send(req: DeltaDiscoveryRequest): void {
    if (!this.sentNode) {
      req.node = { id: this.node.nodeId, user_agent_name: this.node.userAgent ?? 'envoy-test-delta' };
      this.sentNode = true;
    }
    this.call.write(req);
  }

  start(): this {
    this.send({ type_url: TYPE_URLS.cluster, resource_names_subscribe: ['*'] });
    this.send({ type_url: TYPE_URLS.listener, resource_names_subscribe: ['*'] });
    return this;
  }

  nackNext(type: ResourceType, message: string): void {
    this.nacks.set(type, message);
  }

  private onResponse(r: DeltaDiscoveryResponse__Output): void {
    const type = typeOfUrl(r.type_url);
    const resources = r.resources.map((x) => {
      const body = decodeAny(x.resource as { type_url: string; value: Buffer });
      return { name: x.name, version: x.version, body };
    });
    this.responses.push({ type, systemVersion: r.system_version_info, nonce: r.nonce, resources, removed: r.removed_resources });
    const nack = this.nacks.get(type) ?? this.nackIf?.(type, resources);
    if (nack !== undefined) {
      this.nacks.delete(type);
      this.nackCount++;
      this.send({ type_url: TYPE_URLS[type], response_nonce: r.nonce, error_detail: { code: 3, message: nack } });
      this.waiters.check();
      return;
    }
    for (const x of resources) this.state[type].set(x.name, { version: x.version, body: x.body });
    for (const n of r.removed_resources) this.state[type].delete(n);
    this.send({ type_url: TYPE_URLS[type], response_nonce: r.nonce });
    if (type === 'cluster') this.resubscribe('endpoint', [...this.state.cluster.keys()]);
    if (type === 'listener') {
      const rds = new Set<string>();
      for (const l of this.state.listener.values()) {
        const m = /"route_config_name":"([^"]+)"/.exec(JSON.stringify(l.body));
        if (m) rds.add(m[1]!);
      }
      this.resubscribe('route', [...rds]);
    }
    this.waiters.check();
  }

  private resubscribe(type: ResourceType, names: string[]): void {
    const want = new Set(names);
    const sub = [...want].filter((n) => !this.subscribed[type].has(n));
    const unsub = [...this.subscribed[type]].filter((n) => !want.has(n));
    if (sub.length === 0 && unsub.length === 0) return;
    this.subscribed[type] = want;
    for (const n of unsub) this.state[type].delete(n);
    this.send({ type_url: TYPE_URLS[type], resource_names_subscribe: sub, resource_names_unsubscribe: unsub });
  }

  until(pred: (c: this) => boolean, what: string, timeoutMs = 3000): Promise<void> {
    return this.waiters.until(() => pred(this), timeoutMs, what);
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}
