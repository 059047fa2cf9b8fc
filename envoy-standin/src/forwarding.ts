/** Header rewriting between downstream and upstream, and the optional access log line. */
import type * as http from 'node:http';

const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings', 'expect',
]);

/**
 * Request headers for the upstream: hop-by-hop removed, x-forwarded-* added, and
 * `Expect: 100-continue` so the runtime confirms it read the head (see retry.ts).
 */
export function upstreamHeaders(req: http.IncomingMessage): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  const src = req.headers;
  for (const k in src) if (!HOP_BY_HOP.has(k)) out[k] = src[k];
  const remote = req.socket.remoteAddress;
  if (remote !== undefined) {
    const prev = src['x-forwarded-for'];
    out['x-forwarded-for'] = typeof prev === 'string' && prev !== '' ? `${prev}, ${remote}` : remote;
  }
  if (out['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = 'http';
  out.expect = '100-continue';
  return out;
}

export function responseHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i] as string;
    if (!HOP_BY_HOP.has(k.toLowerCase())) out.push(k, raw[i + 1] as string);
  }
  return out;
}

export function accessLine(req: http.IncomingMessage, status: number, cluster: string, ms: number, rid: string): string {
  return `{"ts":"${new Date().toISOString()}","component":"envoy-standin","event":"access","method":${JSON.stringify(req.method)},"path":${JSON.stringify(req.url)},"status":${status},"cluster":${JSON.stringify(cluster)},"ms":${ms.toFixed(2)},"requestId":${JSON.stringify(rid)}}\n`;
}

/** Writes the access line when the access log is on (the line is only built then). */
export function logAccess(write: ((line: string) => void) | undefined, req: http.IncomingMessage, status: number, cluster: string, ms: number, rid: string): void {
  if (write !== undefined) write(accessLine(req, status, cluster, ms, rid));
}
