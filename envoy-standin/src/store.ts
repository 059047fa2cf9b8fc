/**
 * The last accepted xDS configuration (what Envoy keeps while the control plane is away),
 * plus the pure rules for what to subscribe to next.
 */
import type { ClusterModel, ListenerModel, LoadAssignment, RouteTable } from './model';
import type { DecodedResource } from './resources';
import type { XdsKind } from './protos';

/** EDS names Envoy asks for: one per EDS cluster. */
export function edsNames(clusters: Iterable<ClusterModel>): string[] {
  const out = new Set<string>();
  for (const c of clusters) if (c.edsServiceName !== undefined) out.add(c.edsServiceName);
  return [...out].sort();
}

/** RDS names Envoy asks for: the route_config_name of each listener's HCM. */
export function rdsNames(listeners: Iterable<ListenerModel>): string[] {
  const out = new Set<string>();
  for (const l of listeners) if (l.routeConfigName !== undefined) out.add(l.routeConfigName);
  return [...out].sort();
}

export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class XdsStore {
  readonly listeners = new Map<string, ListenerModel>();
  readonly routes = new Map<string, RouteTable>();
  readonly clusters = new Map<string, ClusterModel>();
  readonly endpoints = new Map<string, LoadAssignment>();
  /** Last accepted version per type (SotW version_info, delta system_version_info). */
  readonly versions: Record<XdsKind, string> = { listener: '', route: '', cluster: '', endpoint: '' };
  /** Delta: per-resource versions, sent as initial_resource_versions on reconnect. */
  readonly resourceVersions: Record<XdsKind, Map<string, string>> = {
    listener: new Map(), route: new Map(), cluster: new Map(), endpoint: new Map(),
  };

  private mapOf(kind: XdsKind): Map<string, unknown> {
    switch (kind) {
      case 'listener': return this.listeners;
      case 'route': return this.routes;
      case 'cluster': return this.clusters;
      case 'endpoint': return this.endpoints;
    }
  }

  private put(r: DecodedResource): void {
    switch (r.kind) {
      case 'listener': this.listeners.set(r.name, r.value); break;
      case 'route': this.routes.set(r.name, r.value); break;
      case 'cluster': this.clusters.set(r.name, r.value); break;
      case 'endpoint': this.endpoints.set(r.name, r.value); break;
    }
  }

  /** SotW: LDS/CDS responses are the full set; RDS/EDS responses update only what they carry. */
  applySotw(kind: XdsKind, version: string, resources: DecodedResource[]): void {
    if (kind === 'listener' || kind === 'cluster') this.mapOf(kind).clear();
    for (const r of resources) this.put(r);
    this.versions[kind] = version;
    this.dropUnreferenced();
  }

  applyDelta(kind: XdsKind, systemVersion: string, resources: Array<{ version: string; decoded: DecodedResource }>, removed: string[]): void {
    const map = this.mapOf(kind);
    for (const name of removed) { map.delete(name); this.resourceVersions[kind].delete(name); }
    for (const r of resources) { this.put(r.decoded); this.resourceVersions[kind].set(r.decoded.name, r.version); }
    this.versions[kind] = systemVersion;
    this.dropUnreferenced();
  }

  /** Endpoints and routes nobody references any more are forgotten (Envoy unsubscribes). */
  private dropUnreferenced(): void {
    const eds = new Set(edsNames(this.clusters.values()));
    for (const n of [...this.endpoints.keys()]) if (!eds.has(n)) { this.endpoints.delete(n); this.resourceVersions.endpoint.delete(n); }
    const rds = new Set(rdsNames(this.listeners.values()));
    for (const n of [...this.routes.keys()]) if (!rds.has(n)) { this.routes.delete(n); this.resourceVersions.route.delete(n); }
  }
}
