/**
 * What applying a new set of function definitions means, function by function. Pure: the
 * serving set and the new set in, the changes out (add, remove, roll out a new version, or
 * take new settings in place).
 */
import type { FunctionDefinition } from '@faas/contracts';
import { containerConfigHash } from './config-hash';

export type FunctionChange =
  | { kind: 'add'; def: FunctionDefinition }
  | { kind: 'remove'; name: string }
  /** New containers are needed: a new image or settings fixed at container create time. */
  | { kind: 'rollout'; from: FunctionDefinition; to: FunctionDefinition; reasons: string[] }
  /** Only settings the orchestrator reads live (scaling, warm tier): no new instance. */
  | { kind: 'update'; from: FunctionDefinition; to: FunctionDefinition; reasons: string[] };

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const sortedEntries = (r: Record<string, string>) => Object.keys(r).sort().map((k) => [k, r[k]]);

/** Why `to` needs new containers (empty: it does not). */
export function rolloutReasons(from: FunctionDefinition, to: FunctionDefinition): string[] {
  const r: string[] = [];
  if (from.version !== to.version) r.push(`version ${from.version} -> ${to.version}`);
  if (from.runtime !== to.runtime) r.push('runtime');
  if (from.codeDir !== to.codeDir) r.push('code');
  // Limits (pids included), env, handler, concurrency, timeout and secret names are baked into the
  // container (and the route); secret paths are compared below.
  if (containerConfigHash(from) !== containerConfigHash(to)) r.push('container settings');
  if (!same(sortedEntries(from.secrets), sortedEntries(to.secrets))) r.push('secrets');
  return r;
}

/** Settings that change without new instances. */
export function updateReasons(from: FunctionDefinition, to: FunctionDefinition): string[] {
  const r: string[] = [];
  if (!same(from.scaling, to.scaling)) r.push('scaling');
  if (from.warm !== to.warm || from.pausedTtlMs !== to.pausedTtlMs) r.push('warm tier');
  return r;
}

/** Every change from `current` to `next`, removals first (they free capacity), then by name. */
export function planApply(current: readonly FunctionDefinition[], next: readonly FunctionDefinition[]): FunctionChange[] {
  const now = new Map(current.map((d) => [d.name, d]));
  const want = new Map(next.map((d) => [d.name, d]));
  const out: FunctionChange[] = [];
  for (const name of [...now.keys()].sort()) if (!want.has(name)) out.push({ kind: 'remove', name });
  for (const name of [...want.keys()].sort()) {
    const to = want.get(name)!;
    const from = now.get(name);
    if (!from) {
      out.push({ kind: 'add', def: to });
      continue;
    }
    const reasons = rolloutReasons(from, to);
    if (reasons.length > 0) {
      out.push({ kind: 'rollout', from, to, reasons });
      continue;
    }
    const updates = updateReasons(from, to);
    if (updates.length > 0) out.push({ kind: 'update', from, to, reasons: updates });
    // Same settings, other content: code or secret files edited under an unchanged declared version.
    else if (from.contentHash !== to.contentHash) out.push({ kind: 'rollout', from, to, reasons: ['content (code or secret files)'] });
  }
  return out;
}

/** One log-friendly summary of a plan: names and versions only (never settings or secrets). */
export function summarizeChanges(changes: readonly FunctionChange[]): { added: string[]; removed: string[]; changed: { fn: string; from: string; to: string; kind: 'rollout' | 'update' }[] } {
  const out = { added: [] as string[], removed: [] as string[], changed: [] as { fn: string; from: string; to: string; kind: 'rollout' | 'update' }[] };
  for (const c of changes) {
    if (c.kind === 'add') out.added.push(c.def.name);
    else if (c.kind === 'remove') out.removed.push(c.name);
    else out.changed.push({ fn: c.to.name, from: c.from.version, to: c.to.version, kind: c.kind });
  }
  return out;
}
