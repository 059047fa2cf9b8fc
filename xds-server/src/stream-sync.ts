/**
 * Read-only views of a stream's planner state: whether a router runs the target for one
 * function (what API waits need), and its status for GET /v1/routers.
 */
import { XDS_NAMES, clusterName, type RouterTypeStatus } from '@faas/contracts';
import { RESOURCE_TYPES, TYPE_URLS, type ResourceType } from './proto';
import type { Snapshot } from './snapshot';
import { subscribes } from './subscription';
import type { StreamState, SyncState } from './stream-state';

function implicitlySubscribed(s: StreamState, type: ResourceType, name: string): boolean {
  if (subscribes(s.types[type].sub, name)) return true;
  if (s.isGrpc) {
    // gRPC clients walk LDS -> RDS -> CDS -> EDS; a type they will ask for next counts.
    if (type === 'route') return s.types.listener.acked.size > 0;
    return false;
  }
  // Envoy-like routers are wildcard on LDS/CDS, ask EDS for every cluster, RDS per listener.
  if (type === 'cluster' || type === 'listener') return true;
  if (type === 'endpoint') return s.types.cluster.acked.has(name);
  return s.types.listener.acked.size > 0;
}

/**
 * Whether this router runs the target snapshot's state for `fn`: for each type, the
 * resources it is (or is about to be) subscribed to are ACKed as in the target.
 */
export function syncOf(s: StreamState, fn: string, snap: Snapshot): SyncState {
  const fe = snap.functions.get(fn);
  const cn = clusterName(fn);
  /**
   * Clusters, endpoints and the listener are judged per resource: only this resource's
   * target content being one the node rejected fails the wait (another resource's
   * rejection does not block it). The route config is one resource for all functions.
   */
  const check = (type: ResourceType, ok: boolean, name?: string, target?: string): SyncState | null => {
    if (ok) return null;
    const st = s.types[type];
    if (type !== 'route') {
      const r = name === undefined ? undefined : s.rej.rejection(type, name, target);
      return r !== undefined ? { state: 'nacked', type, message: r.message } : { state: 'pending', type };
    }
    if ((st.lastNacked || st.blockedByNack) && st.nack !== null) return { state: 'nacked', type, message: st.nack.message };
    return { state: 'pending', type };
  };
  const t = s.types;
  const results: (SyncState | null)[] = [];
  if (implicitlySubscribed(s, 'cluster', cn)) results.push(check('cluster', t.cluster.acked.get(cn) === fe?.cluster.hash, cn, fe?.cluster.hash));
  if (fe !== undefined && implicitlySubscribed(s, 'endpoint', cn)) {
    results.push(check('endpoint', t.endpoint.acked.get(cn) === fe.cla.hash && !s.needsCla.has(cn), cn, fe.cla.hash));
  }
  const listener = s.isGrpc ? snap.listeners.grpc : snap.listeners.envoy;
  if (implicitlySubscribed(s, 'listener', listener.name)) results.push(check('listener', t.listener.acked.get(listener.name) === listener.hash, listener.name, listener.hash));
  if (implicitlySubscribed(s, 'route', XDS_NAMES.routeConfig)) results.push(check('route', t.route.ackedRouteFns.get(fn) === fe?.routeHash));
  const nacked = results.find((r) => r?.state === 'nacked');
  if (nacked) return nacked;
  const pending = results.find((r) => r !== null);
  return pending ?? { state: 'synced' };
}

/** Per type: versions sent and ACKed, the NACK holding content back, resources held. */
export function typeStatuses(s: StreamState | null): RouterTypeStatus[] {
  return RESOURCE_TYPES.map((type): RouterTypeStatus => {
    const st = s?.types[type];
    // A NACK on an earlier stream of this node still holds back that content: shown too.
    const earlier = s?.rej.lastNack(type) ?? null;
    const nacked = st?.nack ?? (earlier === null ? null : { version: earlier.version, message: earlier.message, at: earlier.at });
    return { type, typeUrl: TYPE_URLS[type], sentVersion: st?.sentVersion ?? null, ackedVersion: st?.ackedVersion ?? null, nacked, resourceCount: st?.acked.size ?? 0 };
  });
}
