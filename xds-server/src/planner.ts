/**
 * The per-stream planner: (snapshot, stream state, event) -> effects (responses to send,
 * ACKs/NACKs seen). Pure apart from mutating the stream state it is given (owned by it),
 * no I/O, no clock but env.now(): table-tested without gRPC (test/planner.test.ts).
 *
 * Ordering rules, in CDS, EDS, LDS, RDS order (make before break):
 *  - a function's route is released to this stream only after the stream has ACKed its
 *    cluster and endpoints (when it is subscribed to them); an Envoy-like stream's first
 *    route configuration waits for all of them (a reconnecting router keeps routing);
 *  - a removed function's cluster stays until the stream has ACKed routes without it;
 *  - any cluster (re)sent makes its endpoints due again (Envoy warms clusters until a
 *    new CLA arrives);
 *  - content this node rejected is swapped for what it last ACKed (rejections.ts).
 * Each type's content is memoized per (snapshot, subscription); routers subscribed to
 * everything share the snapshot's content (stream-content.ts).
 */
import { XDS_NAMES, clusterName, functionOfCluster } from '@faas/contracts';
import type { FunctionEntry, ResourceEntry, Snapshot } from './snapshot';
import { subscribes } from './subscription';
import {
  EMPTY_CONTENT, allClusters, allEndpoints, allRoutes, coversAllClusters, isAllRouteFns, makeContent, singleContent,
  someRoutes, sortedFunctionNames, type Content,
} from './stream-content';
import { applySotwRequest, planSotwSend } from './planner-sotw';
import { applyDeltaRequest, planDeltaSend } from './planner-delta';
import { NO_ROUTE_FNS, type Effect, type PlanEvent, type PlannerEnv, type StreamState, type TypeState } from './stream-state';

/** One planning step: apply `event` to `s`, then return everything now due, in order. */
export function plan(env: PlannerEnv, snap: Snapshot, s: StreamState, event: PlanEvent): Effect[] {
  const out: Effect[] = [];
  if (event.kind === 'sotw-request') applySotwRequest(env, s, event, out);
  else if (event.kind === 'delta-request') applyDeltaRequest(env, s, event, out);
  // A stale SotW request changes nothing: no reconcile (as before the split).
  if (out.length === 1 && out[0]!.kind === 'stale') return out;
  reconcile(env, snap, s, out);
  return out;
}

/** Removed functions whose routes this router may still hold (sent, pending or ACKed). */
function retainedOf(s: StreamState, snap: Snapshot): ReadonlySet<string> {
  const routeSt = s.types.route;
  const out = new Set<string>();
  const add = (m: ReadonlyMap<string, string>): void => {
    if (isAllRouteFns(snap, m)) return; // the usual case: exactly the target's functions
    for (const fn of m.keys()) if (!snap.functions.has(fn)) out.add(fn);
  };
  add(routeSt.sentRouteFns);
  if (routeSt.ackedRouteFns !== routeSt.sentRouteFns) add(routeSt.ackedRouteFns);
  for (const p of routeSt.pending.values()) add(p.routeFns);
  return out;
}

/**
 * Clusters or CLAs this stream is subscribed to: of the target's functions plus retained
 * ones. A router subscribed to all of them (the usual case) gets the snapshot's shared
 * content, built and encoded once for all streams.
 */
function functionContent(
  env: PlannerEnv, st: TypeState, snap: Snapshot, retained: ReadonlySet<string>, all: (s: Snapshot) => Content, pick: (e: FunctionEntry) => ResourceEntry,
): Content {
  if (retained.size === 0 && st.memo !== null && st.memo.snap === snap && st.memo.subGen === st.subGen) return st.memo.content;
  let content: Content;
  if (retained.size === 0 && coversAllClusters((n) => subscribes(st.sub, n), snap)) {
    content = all(snap);
  } else {
    const entries = new Map<string, ResourceEntry>();
    const consider = (fe: FunctionEntry | undefined): void => {
      if (fe === undefined) return;
      const e = pick(fe);
      if (subscribes(st.sub, e.name)) entries.set(e.name, e);
    };
    for (const fn of sortedFunctionNames(snap)) consider(snap.functions.get(fn));
    for (const fn of retained) consider(env.retired(fn));
    content = entries.size === 0 ? EMPTY_CONTENT : makeContent(entries);
  }
  // Retained entries can vanish without a new snapshot: only the plain case is memoized.
  st.memo = retained.size === 0 ? { snap, subGen: st.subGen, content } : null;
  return content;
}

/** Plan a type's content if requested; the protocol decides what "due" means. */
function send(
  env: PlannerEnv, s: StreamState, st: TypeState, content: Content, routeFns: ReadonlyMap<string, string>, force: boolean, out: Effect[],
  forceNames?: ReadonlySet<string>, onChanged?: (name: string) => void,
): boolean {
  if (!st.requested) return false;
  if (s.protocol === 'sotw') {
    // Newly requested names are always answered (SotW: absence from the answer is how a
    // client learns a name does not exist, instead of waiting for its does-not-exist timer).
    const answer = st.mustAnswer || force || st.newNames.size > 0;
    return planSotwSend(env, s, st, content, routeFns, answer, out, onChanged);
  }
  return planDeltaSend(env, s, st, content, routeFns, force, forceNames, out, onChanged);
}

function readyForRoute(s: StreamState, fn: string): boolean {
  const cn = clusterName(fn);
  const cdsSubscribed = !s.isGrpc || subscribes(s.types.cluster.sub, cn);
  if (!cdsSubscribed) return true; // gRPC clients ask for a cluster only once a route names it
  return s.types.cluster.acked.has(cn) && s.types.endpoint.acked.has(cn) && !s.needsCla.has(cn);
}

/** Release routes of functions whose cluster and endpoints this router has ACKed. */
function releaseRoutes(s: StreamState, snap: Snapshot): void {
  if (s.releasedFor !== snap) {
    for (const fn of s.released) {
      if (!snap.functions.has(fn)) {
        s.released.delete(fn);
        s.releasedGen++;
      }
    }
    s.releasedFor = snap;
  }
  // released only ever holds target functions: equal sizes mean all are released.
  if (s.released.size < snap.functions.size) {
    for (const fn of snap.functions.keys()) {
      if (!s.released.has(fn) && readyForRoute(s, fn)) {
        s.released.add(fn);
        s.releasedGen++;
      }
    }
  }
}

function reconcile(env: PlannerEnv, snap: Snapshot, s: StreamState, out: Effect[]): void {
  const routeSt = s.types.route;
  // Clusters: desired, plus removed ones a route may still point at on this router.
  const retained = retainedOf(s, snap);
  s.retained = retained;

  const cds = s.rej.filter('cluster', functionContent(env, s.types.cluster, snap, retained, allClusters, (e) => e.cluster));
  // Any cluster (re)sent with new content makes its CLA due again.
  send(env, s, s.types.cluster, cds, NO_ROUTE_FNS, false, out, undefined, (n) => s.needsCla.add(n));
  for (const n of s.needsCla) {
    const fn = functionOfCluster(n);
    if (fn === undefined || (!snap.functions.has(fn) && !retained.has(fn))) s.needsCla.delete(n);
  }

  const eds = s.rej.filter('endpoint', functionContent(env, s.types.endpoint, snap, retained, allEndpoints, (e) => e.cla));
  let edsForce = false;
  for (const n of s.needsCla) {
    if (eds.entries.has(n)) {
      edsForce = true;
      break;
    }
  }
  if (send(env, s, s.types.endpoint, eds, NO_ROUTE_FNS, edsForce, out, edsForce ? s.needsCla : undefined)) {
    for (const n of s.needsCla) if (eds.entries.has(n)) s.needsCla.delete(n);
  }

  const listener = s.isGrpc ? snap.listeners.grpc : snap.listeners.envoy;
  const lds = s.rej.filter('listener', subscribes(s.types.listener.sub, listener.name) ? singleContent(listener) : EMPTY_CONTENT);
  send(env, s, s.types.listener, lds, NO_ROUTE_FNS, false, out);

  releaseRoutes(s, snap);
  // Envoy keeps its last configuration across a control-plane restart, so a reconnecting
  // router may still route every function: its first route configuration on this stream
  // waits until every function is released, rather than arriving without some of them (a
  // burst of 404s). Not after a NACK of clusters or endpoints: the hold would never end.
  const firstRoutes = routeSt.sentVersion === null && !s.isGrpc;
  const nacked = s.types.cluster.nack !== null || s.types.endpoint.nack !== null;
  if (firstRoutes && !nacked && s.released.size < snap.functions.size) return;
  let rm = s.routeMemo;
  if (rm === null || rm.snap !== snap || rm.releasedGen !== s.releasedGen || rm.subGen !== routeSt.subGen) {
    const r = !subscribes(routeSt.sub, XDS_NAMES.routeConfig)
      ? { content: EMPTY_CONTENT, routeFns: NO_ROUTE_FNS }
      : s.released.size === snap.functions.size
        ? allRoutes(snap, env.routeConfigs, s.isGrpc)
        : someRoutes(snap, s.released, env.routeConfigs, s.isGrpc);
    rm = { snap, releasedGen: s.releasedGen, subGen: routeSt.subGen, ...r };
    s.routeMemo = rm;
  }
  send(env, s, routeSt, rm.content, rm.routeFns, false, out);
}
