/**
 * What one router (node id) rejected, per resource, kept across its reconnects for the
 * life of the process. A SotW response carries a whole type, so without this a NACKed
 * resource (say alpha's CLA) would ride along in the next response for any other change
 * (beta) and be NACKed again, failing every rollout on that router. Instead each stream
 * filters its content through here: a resource whose current content was rejected is
 * replaced by the version this node last ACKed, or left out if it never ACKed one (for
 * SotW LDS/CDS leaving out means deletion, which is only right when nothing was ACKed).
 */
import type { ResourceType } from './proto';
import type { ResourceEntry } from './snapshot';
import { makeContent, type Content } from './stream-content';

/** Types whose resources are judged one by one (the route config is one resource for all
 * functions; it keeps the per-stream "never re-send NACKed content" rule). */
export type FilteredType = Exclude<ResourceType, 'route'>;
export const FILTERED_TYPES: readonly FilteredType[] = ['cluster', 'endpoint', 'listener'];

export interface Rejection {
  hash: string;
  version: string;
  message: string;
  at: number;
}

/** Rejected hashes kept per resource name (a PUT of any of them fails at once). */
const MAX_REJECTED_PER_NAME = 8;

const NAME_CHAR = /[A-Za-z0-9_.-]/;

/** Whether `message` names `name` as a whole word (so "fn-a" is not found in "fn-ab"). */
export function mentions(message: string, name: string): boolean {
  let i = message.indexOf(name);
  while (i >= 0) {
    const before = i === 0 ? '' : message[i - 1]!;
    const after = message[i + name.length] ?? '';
    if (!NAME_CHAR.test(before) && !NAME_CHAR.test(after)) return true;
    i = message.indexOf(name, i + 1);
  }
  return false;
}

/**
 * The resources a NACK rejects: those of the response that differ from what the node had
 * ACKed (unchanged ones were accepted before). When the error text names some of them
 * (Envoy and gRPC name the failing resource), only those.
 */
export function rejectedNames(sent: ReadonlyMap<string, ResourceEntry>, acked: ReadonlyMap<string, ResourceEntry>, message: string): string[] {
  const changed: string[] = [];
  for (const [n, e] of sent) if (acked.get(n)?.hash !== e.hash) changed.push(n);
  const named = changed.filter((n) => mentions(message, n));
  return named.length > 0 ? named : changed;
}

interface TypeRejections {
  /** name -> rejected hash -> rejection. */
  rejected: Map<string, Map<string, Rejection>>;
  /** The resources this node last ACKed (SotW: the whole ACKed response). */
  acked: ReadonlyMap<string, ResourceEntry>;
  /** Bumped when `rejected` changes (invalidates filter memos). */
  gen: number;
  lastNack: Rejection | null;
}

interface FilterMemo { input: Content; gen: number; acked: ReadonlyMap<string, ResourceEntry>; out: Content }

export class NodeRejections {
  private readonly types: Record<FilteredType, TypeRejections>;
  private readonly memos = new Map<FilteredType, FilterMemo>();

  constructor(readonly nodeId: string) {
    const t = (): TypeRejections => ({ rejected: new Map(), acked: new Map(), gen: 0, lastNack: null });
    this.types = { cluster: t(), endpoint: t(), listener: t() };
  }

  /** SotW ACK: the node now holds exactly `entries` of this type. */
  ackedAll(type: FilteredType, entries: ReadonlyMap<string, ResourceEntry>): void {
    this.types[type].acked = entries;
  }

  /** Delta ACK: `upserts` added or replaced, `removals` gone. */
  ackedDelta(type: FilteredType, upserts: readonly ResourceEntry[], removals: readonly string[]): void {
    if (upserts.length === 0 && removals.length === 0) return;
    const m = new Map(this.types[type].acked);
    for (const e of upserts) m.set(e.name, e);
    for (const n of removals) m.delete(n);
    this.types[type].acked = m;
  }

  /** Record a NACK of a response that carried `sent`; returns the names judged rejected. */
  nacked(type: FilteredType, sent: ReadonlyMap<string, ResourceEntry>, version: string, message: string, at = Date.now()): string[] {
    const tr = this.types[type];
    const names = rejectedNames(sent, tr.acked, message);
    for (const n of names) {
      const e = sent.get(n)!;
      let byHash = tr.rejected.get(n);
      if (byHash === undefined) tr.rejected.set(n, (byHash = new Map()));
      byHash.delete(e.hash);
      byHash.set(e.hash, { hash: e.hash, version, message, at });
      if (byHash.size > MAX_REJECTED_PER_NAME) byHash.delete(byHash.keys().next().value as string);
    }
    if (names.length > 0) tr.gen++;
    tr.lastNack = { hash: '', version, message, at };
    return names;
  }

  /** The rejection of this exact content of `name`, if this node rejected it. */
  rejection(type: ResourceType, name: string, hash: string | undefined): Rejection | undefined {
    if (type === 'route' || hash === undefined) return undefined;
    return this.types[type].rejected.get(name)?.get(hash);
  }

  lastNack(type: ResourceType): Rejection | null {
    return type === 'route' ? null : this.types[type].lastNack;
  }

  hasRejections(type: FilteredType): boolean {
    return this.types[type].rejected.size > 0;
  }

  /**
   * `content` with each rejected resource replaced by the last ACKed one (or left out if
   * none). Returns `content` itself when nothing in it is rejected (the usual case).
   */
  filter(type: FilteredType, content: Content): Content {
    const tr = this.types[type];
    if (tr.rejected.size === 0) return content;
    const memo = this.memos.get(type);
    if (memo !== undefined && memo.input === content && memo.gen === tr.gen && memo.acked === tr.acked) return memo.out;
    let entries: Map<string, ResourceEntry> | null = null;
    for (const [name, byHash] of tr.rejected) {
      const h = content.hashes.get(name);
      if (h === undefined || !byHash.has(h)) continue;
      entries ??= new Map(content.entries);
      const prev = tr.acked.get(name);
      if (prev !== undefined && !byHash.has(prev.hash)) entries.set(name, prev);
      else entries.delete(name);
    }
    const out = entries === null ? content : makeContent(entries);
    this.memos.set(type, { input: content, gen: tr.gen, acked: tr.acked, out });
    return out;
  }
}
