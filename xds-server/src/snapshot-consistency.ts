/**
 * Consistency of a snapshot before any router sees it (as go-control-plane's
 * Snapshot.Consistent()): every route points at a cluster of the snapshot, every EDS
 * cluster has its ClusterLoadAssignment, and each listener names the route configuration
 * the snapshot serves. An inconsistent snapshot would make routers warm forever or 503.
 */
import { FaasError, XDS_NAMES } from '@faas/contracts';
import type { ResourceEntry, Snapshot } from './snapshot';

export class InconsistentSnapshotError extends FaasError {
  constructor(readonly problems: readonly string[], generation: number) {
    super('inconsistent_snapshot', `snapshot ${generation} is inconsistent: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`, { problems, generation });
    this.name = 'InconsistentSnapshotError';
  }
}

interface RouteLike { name?: string; route?: { cluster?: string } }
interface HcmLike { rds?: { route_config_name?: string } }
interface ListenerLike {
  filter_chains?: { filters?: { typed_config?: HcmLike }[] }[];
  api_listener?: { api_listener?: HcmLike };
}
interface ClusterLike { type?: string; eds_cluster_config?: object }

/** Route config names a listener's HTTP connection managers ask RDS for. */
function rdsNames(l: ListenerLike): string[] {
  const hcms: (HcmLike | undefined)[] = [l.api_listener?.api_listener];
  for (const fc of l.filter_chains ?? []) for (const f of fc.filters ?? []) hcms.push(f.typed_config);
  return hcms.flatMap((h) => (h?.rds?.route_config_name === undefined ? [] : [h.rds.route_config_name]));
}

/** The problems of `snap`, empty when it is consistent. */
export function snapshotProblems(snap: Snapshot): string[] {
  const problems: string[] = [];
  const clusters = new Map<string, ResourceEntry>();
  const clas = new Set<string>();
  for (const fe of snap.functions.values()) {
    clusters.set(fe.cluster.name, fe.cluster);
    clas.add(fe.cla.name);
  }
  for (const [fn, fe] of snap.functions) {
    for (const r of fe.routes as RouteLike[]) {
      const c = r.route?.cluster;
      if (c === undefined || !clusters.has(c)) problems.push(`route ${r.name ?? '?'} of ${fn} points at cluster ${c ?? '(none)'}, which the snapshot lacks`);
    }
    const cl = fe.cluster.resource as ClusterLike;
    const eds = cl.type === 'EDS' || cl.eds_cluster_config !== undefined;
    if (eds && !clas.has(fe.cluster.name)) problems.push(`EDS cluster ${fe.cluster.name} has no ClusterLoadAssignment`);
    if (fe.cla.name !== fe.cluster.name) problems.push(`ClusterLoadAssignment ${fe.cla.name} of ${fn} does not match its cluster ${fe.cluster.name}`);
  }
  for (const l of [snap.listeners.envoy, snap.listeners.grpc]) {
    const names = rdsNames(l.resource as ListenerLike);
    if (names.length === 0 || names.some((n) => n !== XDS_NAMES.routeConfig)) {
      problems.push(`listener ${l.name} asks for route configuration ${names.join(', ') || '(none)'}, the snapshot serves ${XDS_NAMES.routeConfig}`);
    }
  }
  return problems;
}

/** Throw InconsistentSnapshotError unless `snap` is consistent. */
export function assertConsistent(snap: Snapshot): void {
  const problems = snapshotProblems(snap);
  if (problems.length > 0) throw new InconsistentSnapshotError(problems, snap.generation);
}
