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
  type BuilderHooks, type ListenerOptions, type Route,
} from './resources';

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

export function makeEntry(type: ResourceType, name: string, resource: object): ResourceEntry {
  const typeUrl = TYPE_URLS[type];
  const value = encodeMessage(fullNameOfTypeUrl(typeUrl), resource);
  return { type, name, resource, any: { type_url: typeUrl, value }, hash: hashBytes(value) };
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

/** Cache of RouteConfiguration entries by their function set (streams mostly share one). */
export class RouteConfigCache {
  private readonly cache = new Map<string, ResourceEntry>();

  /**
   * Entry for the routes of `fns` (each with its routes), in name order. `grpcClient`:
   * an empty set gets the placeholder route gRPC C-core needs.
   */
  get(fns: { name: string; routes: Route[]; routeHash: string }[], grpcClient = false): ResourceEntry {
    const sorted = [...fns].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const placeholder = grpcClient && sorted.length === 0;
    const key = placeholder ? '<placeholder>' : sorted.map((f) => `${f.name}=${f.routeHash}`).join(',');
    let e = this.cache.get(key);
    if (e === undefined) {
      const routes = placeholder ? [buildPlaceholderRoute()] : sorted.flatMap((f) => f.routes);
      e = makeEntry('route', XDS_NAMES.routeConfig, buildRouteConfiguration(routes));
      // Small bound: only the current target and a few staged variants are ever live.
      if (this.cache.size >= 64) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, e);
    }
    return e;
  }
}
