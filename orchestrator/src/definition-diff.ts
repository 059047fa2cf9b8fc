/**
 * What a new set of definitions changes against the one serving: functions added, removed and
 * changed (another version: declared version or content hash differs). Pure; the reload path
 * (definition-reload.ts) uses it to tell an edit from a no-op, the rollout reuses it to decide
 * what to build, start and drain.
 */
import type { FunctionDefinition } from '@faas/contracts';

export interface DefinitionChange {
  from: FunctionDefinition;
  to: FunctionDefinition;
}

export interface DefinitionDiff {
  added: FunctionDefinition[];
  /** Names of functions no longer defined. */
  removed: string[];
  changed: DefinitionChange[];
  /** Names of functions whose version and content are the same. */
  unchanged: string[];
}

/**
 * Same version: same declared version and same content hash (code, settings, secret contents).
 * A code edit under an unchanged declared version is therefore another version.
 */
export function sameVersion(a: FunctionDefinition, b: FunctionDefinition): boolean {
  return a.version === b.version && a.contentHash === b.contentHash;
}

/** Every list sorted by function name, so equal inputs give equal diffs. */
export function diffDefinitions(current: readonly FunctionDefinition[], next: readonly FunctionDefinition[]): DefinitionDiff {
  const before = new Map(current.map((d) => [d.name, d]));
  const after = new Map(next.map((d) => [d.name, d]));
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const diff: DefinitionDiff = { added: [], removed: [], changed: [], unchanged: [] };
  for (const name of [...after.keys()].sort(byName)) {
    const to = after.get(name) as FunctionDefinition;
    const from = before.get(name);
    if (!from) diff.added.push(to);
    else if (sameVersion(from, to)) diff.unchanged.push(name);
    else diff.changed.push({ from, to });
  }
  diff.removed = [...before.keys()].filter((n) => !after.has(n)).sort(byName);
  return diff;
}

/** True when applying `next` would change nothing. */
export function isEmptyDiff(d: DefinitionDiff): boolean {
  return d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0;
}

/** One log-friendly line of a diff: names only. */
export function summarizeDiff(d: DefinitionDiff): { added: string[]; removed: string[]; changed: { fn: string; from: string; to: string }[] } {
  return {
    added: d.added.map((x) => x.name),
    removed: d.removed,
    changed: d.changed.map((c) => ({ fn: c.to.name, from: c.from.version, to: c.to.version })),
  };
}
