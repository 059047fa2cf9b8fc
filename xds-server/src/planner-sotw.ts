/**
 * The SotW half of the planner: reading a DiscoveryRequest's ACK/NACK and names, and
 * deciding whether a type's content is sent (SotW always sends the whole type).
 */
import { applySotwNames, sameSubscription } from './subscription';
import type { Content } from './stream-content';
import { markSent, type Effect, type PlanEvent, type PlannerEnv, type StreamState, type TypeState } from './stream-state';

type SotwRequest = Extract<PlanEvent, { kind: 'sotw-request' }>;

/** Apply a SotW request to the stream state; its ACK/NACK/stale effects go to `out`. */
export function applySotwRequest(env: PlannerEnv, s: StreamState, ev: SotwRequest, out: Effect[]): void {
  const st = s.types[ev.type];
  if (ev.nonce !== '' && st.lastNonce !== null && ev.nonce !== st.lastNonce) {
    // Stale: a newer response is on its way; the client's next request repeats its names.
    out.push({ kind: 'stale', type: ev.type, nonce: ev.nonce });
    return;
  }
  // Nothing sent of this type on this stream yet: a nonce here comes from an earlier
  // stream (reconnect), so this is a first request and is always answered.
  if (ev.nonce !== '' && st.lastNonce !== null) recordReply(env, s, st, ev.nack, out);
  else st.mustAnswer = true;
  const before = { wildcard: st.sub.wildcard, names: st.sub.names };
  for (const n of applySotwNames(st.sub, ev.names)) {
    // Naming a resource the wildcard already delivered and the client ACKed is not a
    // new request (Envoy-like clients switch EDS from wildcard to explicit names).
    if (!(before.wildcard && st.acked.has(n))) st.newNames.add(n);
  }
  if (!sameSubscription(before, st.sub)) st.subGen++;
  st.requested = true;
}

function recordReply(env: PlannerEnv, s: StreamState, st: TypeState, nack: { message: string } | null, out: Effect[]): void {
  const version = st.sentVersion ?? '';
  const nonce = st.lastNonce ?? '';
  if (nack !== null) {
    st.nack = { version, message: nack.message, at: env.now() };
    st.nackedContentKey = st.sentContentKey;
    st.lastNacked = true;
    const rejected = st.type === 'route' ? [] : s.rej.nacked(st.type, st.sentEntries, version, nack.message, st.nack.at);
    out.push({ kind: 'nack', type: st.type, version, nonce, message: nack.message, rejected });
  } else {
    st.acked = st.sentContent;
    st.ackedRouteFns = st.sentRouteFns;
    st.ackedVersion = version;
    st.ackedContentKey = st.sentContentKey;
    st.lastNacked = false;
    if (st.type !== 'route') s.rej.ackedAll(st.type, st.sentEntries);
    out.push({ kind: 'ack', type: st.type, version, nonce });
  }
}

/** Whether a SotW response with `content` is due; if so it is planned into `out`. */
export function planSotwSend(
  env: PlannerEnv, s: StreamState, st: TypeState, content: Content, routeFns: ReadonlyMap<string, string>, answer: boolean,
  out: Effect[], onChanged?: (name: string) => void,
): boolean {
  const key = content.key;
  // After a NACK the router still runs its ACKed content: equal to it, nothing to send.
  const heldByClient = st.lastNacked && key === st.ackedContentKey;
  if (!answer && (key === st.sentContentKey || key === st.nackedContentKey || heldByClient)) {
    st.blockedByNack = key === st.nackedContentKey && key !== st.sentContentKey;
    st.newNames.clear();
    return false;
  }
  const nonce = String(++s.nonceSeq);
  const had = st.lastNacked ? st.acked : st.sentContent;
  if (onChanged !== undefined) for (const [n, h] of content.hashes) if (had.get(n) !== h) onChanged(n);
  const version = env.nextVersion();
  st.sentVersion = version;
  st.sentContentKey = key;
  st.sentContent = content.hashes;
  st.sentEntries = content.entries;
  st.sentRouteFns = routeFns;
  markSent(st, nonce);
  out.push({ kind: 'send', response: { protocol: 'sotw', type: st.type, version, nonce, content, routeFns } });
  return true;
}
