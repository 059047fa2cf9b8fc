/**
 * What a stream sends for one type ("content": name -> encoded resource, with a content
 * key), and data derived once per snapshot and shared by every stream. Snapshots are
 * immutable, so derived data is cached in WeakMaps keyed by the snapshot (dropped with
 * it): with 1,000 functions and N routers, the sorting, hashing and encoding is done once
 * per snapshot instead of N times per request.
 */
import { clusterName } from '@faas/contracts';
import { resourcesBlock } from './response-bytes';
import { functionRouteBytes, type FunctionEntry, type ResourceEntry, type RouteConfigCache, type RouteInput, type Snapshot, hashBytes } from './snapshot';

const routeInput = (e: FunctionEntry): RouteInput => ({ name: e.spec.name, routes: e.routes, routeHash: e.routeHash, routeBytes: () => functionRouteBytes(e) });

export interface Content {
  readonly entries: ReadonlyMap<string, ResourceEntry>;
  /** name -> resource hash (what a router holds once it ACKs this content). */
  readonly hashes: ReadonlyMap<string, string>;
  /** Identity of the content: equal key, equal resources. */
  readonly key: string;
}

/** Order-independent key of a name -> entry map. */
export function contentKeyOf(entries: ReadonlyMap<string, ResourceEntry>): string {
  const names = [...entries.keys()].sort();
  return hashBytes(names.map((n) => `${n}=${entries.get(n)!.hash}`).join(','));
}

export function makeContent(entries: Map<string, ResourceEntry>): Content {
  const hashes = new Map<string, string>();
  for (const [n, e] of entries) hashes.set(n, e.hash);
  return { entries, hashes, key: contentKeyOf(entries) };
}

export const EMPTY_CONTENT: Content = makeContent(new Map());

const blocks = new WeakMap<Content, Buffer>();

/** The encoded resources field for this content, built once per content object. */
export function contentBlock(c: Content): Buffer {
  let b = blocks.get(c);
  if (b === undefined) {
    b = resourcesBlock(c.entries.values());
    blocks.set(c, b);
  }
  return b;
}

interface Derived {
  sortedFns?: readonly string[];
  clusters?: Content;
  endpoints?: Content;
  routes?: { routeFns: ReadonlyMap<string, string>; envoy?: ResourceEntry; grpc?: ResourceEntry };
}

const derived = new WeakMap<Snapshot, Derived>();

function derivedOf(snap: Snapshot): Derived {
  let d = derived.get(snap);
  if (d === undefined) {
    d = {};
    derived.set(snap, d);
  }
  return d;
}

/** Function names of the snapshot in sorted order. */
export function sortedFunctionNames(snap: Snapshot): readonly string[] {
  const d = derivedOf(snap);
  d.sortedFns ??= [...snap.functions.keys()].sort();
  return d.sortedFns;
}

function allOf(snap: Snapshot, pick: (e: FunctionEntry) => ResourceEntry): Content {
  const m = new Map<string, ResourceEntry>();
  for (const fn of sortedFunctionNames(snap)) {
    const e = pick(snap.functions.get(fn)!);
    m.set(e.name, e);
  }
  return makeContent(m);
}

/** Every cluster of the snapshot (what a wildcard router with no removal in flight gets). */
export function allClusters(snap: Snapshot): Content {
  const d = derivedOf(snap);
  d.clusters ??= allOf(snap, (e) => e.cluster);
  return d.clusters;
}

/** Every ClusterLoadAssignment of the snapshot. */
export function allEndpoints(snap: Snapshot): Content {
  const d = derivedOf(snap);
  d.endpoints ??= allOf(snap, (e) => e.cla);
  return d.endpoints;
}

/** Whether a subscription covers every cluster name of the snapshot. */
export function coversAllClusters(subscribed: (name: string) => boolean, snap: Snapshot): boolean {
  for (const fn of snap.functions.keys()) if (!subscribed(clusterName(fn))) return false;
  return true;
}

/** The RouteConfiguration with every function of the snapshot released, and its routeFns. */
export function allRoutes(snap: Snapshot, cache: RouteConfigCache, grpcClient: boolean): { content: Content; routeFns: ReadonlyMap<string, string> } {
  const d = derivedOf(snap);
  const r = (d.routes ??= { routeFns: new Map(sortedFunctionNames(snap).map((fn) => [fn, snap.functions.get(fn)!.routeHash])) });
  const which = grpcClient ? 'grpc' : 'envoy';
  const entry = (r[which] ??= cache.getSorted(sortedFunctionNames(snap).map((fn) => routeInput(snap.functions.get(fn)!)), grpcClient));
  return { content: singleContent(entry), routeFns: r.routeFns };
}

/** Whether `routeFns` is the all-released map of this snapshot (allRoutes). */
export function isAllRouteFns(snap: Snapshot, routeFns: ReadonlyMap<string, string>): boolean {
  return routeFns.size === 0 || derived.get(snap)?.routes?.routeFns === routeFns;
}

/** The RouteConfiguration for a subset of the snapshot's functions (a rollout in progress). */
export function someRoutes(snap: Snapshot, released: ReadonlySet<string>, cache: RouteConfigCache, grpcClient: boolean): { content: Content; routeFns: ReadonlyMap<string, string> } {
  const fns: RouteInput[] = [];
  const routeFns = new Map<string, string>();
  for (const fn of sortedFunctionNames(snap)) {
    if (!released.has(fn)) continue;
    const e = snap.functions.get(fn)!;
    fns.push(routeInput(e));
    routeFns.set(fn, e.routeHash);
  }
  return { content: singleContent(cache.getSorted(fns, grpcClient)), routeFns };
}

const singles = new WeakMap<ResourceEntry, Content>();

/** Content of one resource (listener, route config), shared per entry. */
export function singleContent(e: ResourceEntry): Content {
  let c = singles.get(e);
  if (c === undefined) {
    c = makeContent(new Map([[e.name, e]]));
    singles.set(e, c);
  }
  return c;
}
