/** Least-request host choice with two random choices (Envoy's default choice_count). Pure given `random`. */

export interface BalancedHost {
  /** In-flight requests to this host. */
  active: number;
}

/**
 * Pick among `hosts` (already only HEALTHY/UNKNOWN ones) that have fewer than `limit` in
 * flight, skipping those in `exclude` when any other is left (retries go to a different
 * host). undefined if no host is below `limit` (or `hosts` is empty).
 */
export function pickLeastRequest<H extends BalancedHost>(hosts: readonly H[], random: () => number, exclude?: ReadonlySet<H>, limit = Infinity): H | undefined {
  let pool: readonly H[] = hosts;
  // The common case (no limit reached, nothing excluded) allocates nothing.
  if (limit !== Infinity && hosts.some((h) => h.active >= limit)) pool = hosts.filter((h) => h.active < limit);
  if (exclude !== undefined && exclude.size > 0) {
    const rest = pool.filter((h) => !exclude.has(h));
    if (rest.length > 0) pool = rest;
  }
  const n = pool.length;
  if (n === 0) return undefined;
  if (n === 1) return pool[0];
  const ia = Math.floor(random() * n);
  const ib = (ia + 1 + Math.floor(random() * (n - 1))) % n; // a second, different host
  const a = pool[ia] as H;
  const b = pool[ib] as H;
  return b.active < a.active ? b : a;
}

/** Whether some host is below `limit`. */
export function hasCapacity(hosts: readonly BalancedHost[], limit: number): boolean {
  if (limit === Infinity) return true;
  for (const h of hosts) if (h.active < limit) return true;
  return false;
}
