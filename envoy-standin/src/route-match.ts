/** Envoy route selection, reduced to what the platform uses. Pure. */
import type { RouteModel, RouteTable, VirtualHostModel } from './model';

/** Virtual host by Envoy's order: exact domain, then "*.suffix", then "prefix*", then "*". */
export function selectVirtualHost(table: RouteTable, hostHeader: string | undefined): VirtualHostModel | undefined {
  const vhs = table.virtualHosts;
  if (vhs.length === 1 && vhs[0]?.domains.length === 1 && vhs[0].domains[0] === '*') return vhs[0]; // the common case, no work
  let host = (hostHeader ?? '').toLowerCase();
  const colon = host.lastIndexOf(':');
  if (colon > 0 && !host.endsWith(']')) host = host.slice(0, colon);
  let best: VirtualHostModel | undefined;
  let bestRank = 0;
  let bestLen = -1;
  for (const vh of vhs) {
    for (const d of vh.domains) {
      let rank = 0;
      if (d === host) rank = 4;
      else if (d === '*') rank = 1;
      else if (d.startsWith('*') && host.endsWith(d.slice(1)) && host.length > d.length - 1) rank = 3;
      else if (d.endsWith('*') && host.startsWith(d.slice(0, -1)) && host.length > d.length - 1) rank = 2;
      if (rank > bestRank || (rank === bestRank && rank > 0 && d.length > bestLen)) {
        best = vh; bestRank = rank; bestLen = d.length;
      }
    }
  }
  return best;
}

function matches(r: RouteModel, path: string): boolean {
  const m = r.match;
  switch (m.kind) {
    case 'prefix': return m.caseSensitive ? path.startsWith(m.value) : path.toLowerCase().startsWith(m.value.toLowerCase());
    case 'path': return m.caseSensitive ? path === m.value : path.toLowerCase() === m.value.toLowerCase();
    case 'regex': return m.regex.test(path);
  }
}

export interface RouteDecision {
  route: RouteModel;
  /** Path (with query) to send upstream, after prefix_rewrite. */
  upstreamPath: string;
}

/** First matching route (Envoy's order) and the rewritten upstream path; undefined = 404. */
export function matchRoute(table: RouteTable, hostHeader: string | undefined, url: string): RouteDecision | undefined {
  const vh = selectVirtualHost(table, hostHeader);
  if (!vh) return undefined;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  for (const route of vh.routes) {
    if (!matches(route, path)) continue;
    if (route.prefixRewrite === undefined) return { route, upstreamPath: url };
    const m = route.match;
    // A path match rewrites the whole path; a prefix match only the matched prefix.
    const rest = m.kind === 'prefix' ? path.slice(m.value.length) : m.kind === 'path' ? '' : path;
    let rewritten = route.prefixRewrite + rest;
    if (m.kind === 'regex') rewritten = route.prefixRewrite;
    return { route, upstreamPath: q < 0 ? rewritten : rewritten + url.slice(q) };
  }
  return undefined;
}
