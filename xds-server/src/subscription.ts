/**
 * Per-type subscription rules of the xDS protocol (pure state transitions).
 * SotW: an empty resource_names is a wildcard only if the stream never named a resource
 * of that type; afterwards it means "nothing". Delta: explicit subscribe/unsubscribe, "*"
 * for wildcard, and an empty first request is the legacy wildcard.
 */
export interface Subscription {
  wildcard: boolean;
  names: Set<string>;
  /** The stream has named at least one resource of this type (SotW legacy-wildcard rule). */
  everNamed: boolean;
}

export function newSubscription(): Subscription {
  return { wildcard: false, names: new Set(), everNamed: false };
}

export function subscribes(sub: Subscription, name: string): boolean {
  return sub.wildcard || sub.names.has(name);
}

/** Apply a SotW request's resource_names; returns the names that are newly requested. */
export function applySotwNames(sub: Subscription, requested: readonly string[]): string[] {
  if (requested.length === 0) {
    if (!sub.everNamed) {
      const was = sub.wildcard;
      sub.wildcard = true;
      return was ? [] : ['*'];
    }
    sub.wildcard = false;
    // A new set (not clear()): callers compare the previous set to detect a change.
    sub.names = new Set();
    return [];
  }
  sub.everNamed = true;
  const wasWildcard = sub.wildcard;
  const added = requested.filter((n) => !sub.names.has(n) && n !== '*');
  sub.wildcard = requested.includes('*');
  sub.names = new Set(requested.filter((n) => n !== '*'));
  if (sub.wildcard && !wasWildcard) added.push('*');
  return added;
}

/** Apply a delta request's subscribe/unsubscribe lists; returns newly requested names. */
export function applyDeltaNames(sub: Subscription, first: boolean, subscribe: readonly string[], unsubscribe: readonly string[]): string[] {
  const added: string[] = [];
  if (first && subscribe.length === 0) {
    sub.wildcard = true;
    added.push('*');
  }
  for (const n of subscribe) {
    if (n === '*') {
      if (!sub.wildcard) added.push('*');
      sub.wildcard = true;
    } else if (!sub.names.has(n)) {
      sub.names.add(n);
      added.push(n);
    }
  }
  for (const n of unsubscribe) {
    if (n === '*') sub.wildcard = false;
    else sub.names.delete(n);
  }
  return added;
}

/** Whether two subscription states select the same names. */
export function sameSubscription(a: { wildcard: boolean; names: ReadonlySet<string> }, b: { wildcard: boolean; names: ReadonlySet<string> }): boolean {
  if (a.wildcard !== b.wildcard || a.names.size !== b.names.size) return false;
  if (a.names === b.names) return true;
  for (const n of a.names) if (!b.names.has(n)) return false;
  return true;
}
