/**
 * Snapshot: the immutable target state built from the desired functions. Each resource is
 * encoded into its Any once and hashed, so streams compare hashes and send ready bytes.
 * Building reuses the previous snapshot's entries for unchanged functions (1,000-function
 * pushes stay cheap).
 */
import { createHash } from 'node:crypto';
import { XDS_NAMES, clusterName, type FunctionRouteSpec } from '@faas/contracts';
import { TYPE_URLS, encodeMessage, fullNameOfTypeUrl, type ResourceType } from './proto';
import {
  buildEnvoyListener, buildFunctionResources, buildPlaceholderRoute, buildGrpcListener, buildRouteConfiguration,
  type AnyPayloads, type BuilderHooks, type ListenerOptions, type Route, type RouteConfiguration,
} from './resources';
import { frameField } from './response-bytes';

/** One encoded resource: the typed object (for inspection and strict checks) and its Any. */
export interface ResourceEntry {
  type: ResourceType;
  name: string;
  resource: object;
  any: { type_url: string; value: Buffer };
  hash: string;
}

export interface FunctionEntry {
  spec: FunctionRouteSpec;
  /** JSON of the spec: equal key, equal resources. */
  key: string;
  cluster: ResourceEntry;
  cla: ResourceEntry;
  routes: Route[];
  /** Hash of this function's routes inside the RouteConfiguration. */
  routeHash: string;
}

const routeBytesCache = new WeakMap<FunctionEntry, Buffer>();

/**
 * The entry's routes encoded as VirtualHost.routes fields (spliced into route configs).
 * Encoded lazily, once per entry: unchanged functions keep theirs across snapshots.
 */
export function functionRouteBytes(e: FunctionEntry): Buffer {
  let b = routeBytesCache.get(e);
  if (b === undefined) {
    b = encodeMessage(VIRTUAL_HOST_TYPE, { routes: e.routes });
    routeBytesCache.set(e, b);
  }
  return b;
}

export interface Snapshot {
  generation: number;
  functions: ReadonlyMap<string, FunctionEntry>;
  listeners: { envoy: ResourceEntry; grpc: ResourceEntry };
  /** Version per type of the target state: changes when that type's content changes. */
  versions: Record<ResourceType, string>;
  /** Content hash per type, to know when versions must change. */
  contentHashes: Record<ResourceType, string>;
}

export function hashBytes(...parts: (string | Buffer)[]): string {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest('base64url').slice(0, 16);
}

/** `resource` must be the message type of `type` (AnyPayloads), so the Any's URL matches it. */
export function makeEntry<T extends ResourceType>(type: T, name: string, resource: AnyPayloads[T], encoded?: Buffer): ResourceEntry {
  const typeUrl = TYPE_URLS[type];
  const value = encoded ?? encodeMessage(fullNameOfTypeUrl(typeUrl), resource);
  return { type, name, resource, any: { type_url: typeUrl, value }, hash: hashBytes(value) };
}

const VIRTUAL_HOST_TYPE = 'envoy.config.route.v3.VirtualHost';
const ROUTE_CONFIG_TYPE = 'envoy.config.route.v3.RouteConfiguration';
const F_ROUTE_CONFIG_VIRTUAL_HOSTS = 2;

/**
 * Bytes of the RouteConfiguration `rc` (one virtual host) whose routes are the
 * concatenation of `routeBytes`: the head of each message is encoded and the functions'
 * pre-encoded routes are spliced in, so a 1,000-function config costs a copy, not 2,000
 * route encodes. Fields are in number order (name, virtual_hosts; name, domains, routes),
 * so the bytes equal protobufjs's own encoding (checked in tests).
 */
export function spliceRouteConfiguration(rc: RouteConfiguration, routeBytes: readonly Buffer[]): Buffer {
  const vh = rc.virtual_hosts?.[0];
  if (vh === undefined || rc.virtual_hosts!.length !== 1) throw new Error('spliceRouteConfiguration needs exactly one virtual host');
  const vhHead = encodeMessage(VIRTUAL_HOST_TYPE, { ...vh, routes: [] });
  const rcHead = encodeMessage(ROUTE_CONFIG_TYPE, { ...rc, virtual_hosts: [] });
  return Buffer.concat([rcHead, frameField(F_ROUTE_CONFIG_VIRTUAL_HOSTS, Buffer.concat([vhHead, ...routeBytes]))]);
}

export function specKey(spec: FunctionRouteSpec): string {
  const eps = [...spec.endpoints].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return JSON.stringify([spec.name, spec.timeoutMs, spec.concurrency, eps.map((e) => [e.id, e.address, e.port, e.health])]);
}

export function buildFunctionEntry(spec: FunctionRouteSpec, hooks: BuilderHooks = {}): FunctionEntry {
  const r = buildFunctionResources(spec, hooks);
  const name = clusterName(spec.name);
  return {
    spec,
    key: specKey(spec),
    cluster: makeEntry('cluster', name, r.cluster),
    cla: makeEntry('endpoint', name, r.cla),
    routes: r.routes,
    routeHash: hashBytes(JSON.stringify(r.routes)),
  };
}

export interface SnapshotBuildOptions extends ListenerOptions {
  epoch: string;
  hooks?: BuilderHooks;
}

function typeHashes(functions: ReadonlyMap<string, FunctionEntry>, listeners: Snapshot['listeners']): Record<ResourceType, string> {
  const names = [...functions.keys()].sort();
  const f = (pick: (e: FunctionEntry) => string) => hashBytes(names.map((n) => `${n}=${pick(functions.get(n)!)}`).join(','));
  return {
    cluster: f((e) => e.cluster.hash),
    endpoint: f((e) => e.cla.hash),
    route: f((e) => e.routeHash),
    listener: hashBytes(listeners.envoy.hash, listeners.grpc.hash),
  };
}

/** Build the next snapshot from all desired specs, reusing unchanged entries of `prev`. */
export function buildSnapshot(specs: Iterable<FunctionRouteSpec>, opts: SnapshotBuildOptions, prev?: Snapshot): Snapshot {
  const functions = new Map<string, FunctionEntry>();
  for (const spec of specs) {
    const old = prev?.functions.get(spec.name);
    functions.set(spec.name, old !== undefined && old.key === specKey(spec) && opts.hooks === undefined ? old : buildFunctionEntry(spec, opts.hooks));
  }
  const listeners = prev?.listeners ?? {
    envoy: makeEntry('listener', XDS_NAMES.envoyListener, buildEnvoyListener(opts)),
    grpc: makeEntry('listener', XDS_NAMES.grpcListener, buildGrpcListener()),
  };
  const generation = (prev?.generation ?? 0) + 1;
  const contentHashes = typeHashes(functions, listeners);
  const versions = {} as Record<ResourceType, string>;
  for (const t of Object.keys(contentHashes) as ResourceType[]) {
    versions[t] = prev !== undefined && prev.contentHashes[t] === contentHashes[t] ? prev.versions[t] : `${opts.epoch}-${generation}`;
  }
  return { generation, functions, listeners, versions, contentHashes };
}

/** One function's part of the RouteConfiguration (routeBytes: its routes pre-encoded). */
export interface RouteInput { name: string; routes: Route[]; routeHash: string; routeBytes?: () => Buffer }

/** Cache of RouteConfiguration entries by their function set (streams mostly share one). */
export class RouteConfigCache {
  private readonly cache = new Map<string, ResourceEntry>();

  /**
   * Entry for the routes of `fns` (each with its routes), in name order. `grpcClient`:
   * an empty set gets the placeholder route gRPC C-core needs.
   */
  get(fns: RouteInput[], grpcClient = false): ResourceEntry {
    return this.getSorted([...fns].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), grpcClient);
  }

  /** Same as get() for `sorted` already in name order (callers with a cached order skip the sort). */
  getSorted(sorted: readonly RouteInput[], grpcClient = false): ResourceEntry {
    const placeholder = grpcClient && sorted.length === 0;
    const key = placeholder ? '<placeholder>' : sorted.map((f) => `${f.name}=${f.routeHash}`).join(',');
    let e = this.cache.get(key);
    if (e === undefined) {
      const routes = placeholder ? [buildPlaceholderRoute()] : sorted.flatMap((f) => f.routes);
      const rc = buildRouteConfiguration(routes);
      const spliced = !placeholder && sorted.every((f) => f.routeBytes !== undefined);
      e = makeEntry('route', XDS_NAMES.routeConfig, rc, spliced ? spliceRouteConfiguration(rc, sorted.map((f) => f.routeBytes!())) : undefined);
      // Small bound: only the current target and a few staged variants are ever live.
      if (this.cache.size >= 64) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, e);
    }
    return e;
  }
}
