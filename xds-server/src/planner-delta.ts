/**
 * The delta half of the planner: explicit subscribe/unsubscribe, ACK/NACK by nonce of
 * each pending response, and sending only what the client lacks plus explicit removals.
 */
import { applyDeltaNames } from './subscription';
import type { Content } from './stream-content';
import type { ResourceEntry } from './snapshot';
import { markSent, type Effect, type PlanEvent, type PlannerEnv, type StreamState, type TypeState } from './stream-state';

type DeltaRequest = Extract<PlanEvent, { kind: 'delta-request' }>;

/** Apply a delta request to the stream state; its ACK/NACK effects go to `out`. */
export function applyDeltaRequest(env: PlannerEnv, s: StreamState, ev: DeltaRequest, out: Effect[]): void {
  const { type } = ev;
  const st = s.types[type];
  const first = !st.requested;
  if (first) {
    st.mustAnswer = true;
    // The client already holds these (reconnect): unknown content to us, so re-sent.
    for (const [n, v] of Object.entries(ev.initialVersions)) st.clientHas.set(n, `client:${v}`);
  }
  // Subscription changes count even when the nonce is stale (delta rule).
  for (const n of applyDeltaNames(st.sub, first, ev.subscribe, ev.unsubscribe)) st.newNames.add(n);
  if (first || ev.subscribe.length > 0 || ev.unsubscribe.length > 0) st.subGen++;
  if (ev.unsubscribe.length > 0) {
    const acked = new Map(st.acked);
    for (const n of ev.unsubscribe) {
      st.clientHas.delete(n);
      acked.delete(n);
    }
    st.acked = acked;
  }
  st.requested = true;
  const nonce = ev.nonce;
  const p = nonce === '' ? undefined : st.pending.get(nonce);
  if (p === undefined) return;
  const isLatest = nonce === st.lastNonce;
  const version = p.version;
  if (ev.nack !== null) {
    st.nack = { version, message: ev.nack.message, at: env.now() };
    st.nackedContentKey = p.contentKey;
    if (isLatest) st.lastNacked = true;
    st.clientHas = new Map(st.acked);
    const rejected = type === 'route' ? [] : s.rej.nacked(type, new Map(p.entries.map((e) => [e.name, e])), version, ev.nack.message, st.nack.at);
    out.push({ kind: 'nack', type, version, nonce, message: ev.nack.message, rejected });
  } else {
    const acked = new Map(st.acked);
    for (const [n, h] of p.upserts) acked.set(n, h);
    for (const n of p.removals) acked.delete(n);
    st.acked = acked;
    st.ackedRouteFns = p.routeFns;
    st.ackedVersion = version;
    if (type !== 'route') s.rej.ackedDelta(type, p.entries, p.removals);
    if (isLatest) st.lastNacked = false;
    out.push({ kind: 'ack', type, version, nonce });
  }
  // Nonces are increasing integers: this reply settles it and every older one.
  for (const k of [...st.pending.keys()]) if (Number(k) <= Number(nonce)) st.pending.delete(k);
}

/** Whether a delta response is due for `content`; if so it is planned into `out`. */
export function planDeltaSend(
  env: PlannerEnv, s: StreamState, st: TypeState, content: Content, routeFns: ReadonlyMap<string, string>, force: boolean,
  forceNames: ReadonlySet<string> | undefined, out: Effect[], onChanged?: (name: string) => void,
): boolean {
  const key = content.key;
  const upserts: ResourceEntry[] = [];
  for (const [n, e] of content.entries) {
    if (st.clientHas.get(n) !== e.hash || st.newNames.has(n) || forceNames?.has(n) === true) upserts.push(e);
  }
  const removals = [...st.clientHas.keys()].filter((n) => !content.entries.has(n));
  // A newly subscribed name we do not have is answered as removed, so the client need
  // not wait for its does-not-exist timer.
  for (const n of st.newNames) if (n !== '*' && !content.entries.has(n) && !st.clientHas.has(n)) removals.push(n);
  const mustSend = st.mustAnswer || upserts.length > 0 || removals.length > 0;
  if (!mustSend || (!st.mustAnswer && !force && key === st.nackedContentKey)) {
    st.blockedByNack = mustSend && key === st.nackedContentKey;
    st.newNames.clear();
    return false;
  }
  const nonce = String(++s.nonceSeq);
  if (onChanged !== undefined) for (const [n, h] of content.hashes) if (st.clientHas.get(n) !== h) onChanged(n);
  const version = env.nextVersion();
  const forced = new Set(upserts.filter((e) => forceNames?.has(e.name) === true).map((e) => e.name));
  const up = new Map(upserts.map((e) => [e.name, e.hash]));
  for (const [n, h] of up) st.clientHas.set(n, h);
  for (const n of removals) st.clientHas.delete(n);
  st.pending.set(nonce, { upserts: up, entries: upserts, removals, contentKey: key, routeFns, version });
  st.sentVersion = version;
  st.sentContentKey = key;
  st.sentContent = content.hashes;
  st.sentRouteFns = routeFns;
  markSent(st, nonce);
  out.push({ kind: 'send', response: { protocol: 'delta', type: st.type, version, nonce, upserts, removals, forced, routeFns } });
  return true;
}
