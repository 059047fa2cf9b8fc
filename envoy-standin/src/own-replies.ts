/**
 * The stand-in's own replies in Envoy's terms (status, response flag, Envoy's body text and
 * response code details), written through the listener's pushed local_reply_config.
 */
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClusterRuntime } from './cluster-runtime';
import { type LocalReplyConfig, type RenderedReply, renderLocalReply } from './local-reply';
import type { ResponseFlag } from './model';

const RESET = 'upstream connect error or disconnect/reset before headers. reset reason:';

/** One of the stand-in's own replies, in Envoy's terms (status, flag, body text, details). */
export interface OwnReply { status: number; flag: ResponseFlag; body: string; details: string }

export const REPLIES = {
  noRoute: { status: 404, flag: 'NR', body: '', details: 'route_not_found' },
  noCluster: { status: 503, flag: 'NC', body: '', details: 'cluster_not_found' },
  noHealthy: { status: 503, flag: 'UH', body: 'no healthy upstream', details: 'no_healthy_upstream' },
  overflow: { status: 503, flag: 'UO', body: `${RESET} overflow`, details: 'upstream_reset_before_response_started{overflow}' },
  timeout: { status: 504, flag: 'UT', body: 'upstream request timeout', details: 'upstream_response_timeout' },
  headersTooLarge: { status: 431, flag: 'DPE', body: 'Request Header Fields Too Large', details: 'http1.headers_too_large' },
  badRequest: { status: 400, flag: 'DPE', body: 'Bad Request', details: 'http1.codec_error' },
} as const satisfies Record<string, OwnReply>;

export function resetReply(flag: ResponseFlag, reason: string): OwnReply {
  return { status: 503, flag, body: `${RESET} ${reason}`, details: `upstream_reset_before_response_started{${reason.replace(/ /g, '_')}}` };
}

/** Status, headers and body of an own reply through the listener's local_reply_config. */
export function renderOwn(cfg: LocalReplyConfig, r: OwnReply, headers: http.IncomingHttpHeaders, cluster: ClusterRuntime | undefined): RenderedReply {
  return renderLocalReply(cfg, {
    status: r.status, flag: r.flag, body: r.body, details: r.details, requestHeaders: headers,
    cluster: cluster?.name, clusterMetadata: cluster?.metadata,
  });
}

export function localReply(res: http.ServerResponse, cfg: LocalReplyConfig, r: OwnReply, req: http.IncomingMessage, cluster: ClusterRuntime | undefined, extra?: Record<string, string>): number {
  if (res.headersSent) { res.destroy(); return r.status; }
  const out = renderOwn(cfg, r, req.headers, cluster);
  const headers: Record<string, string | number> = { ...extra, ...out.headers, 'content-length': Buffer.byteLength(out.body) };
  res.writeHead(out.status, headers);
  res.end(out.body);
  return out.status;
}

/**
 * Node's HTTP parser refused a request (Envoy: a codec error, flag DPE): answer it through
 * the local_reply_config instead of Node's bodiless default, then close the connection.
 */
export function replyCodecError(cfg: LocalReplyConfig, err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') { socket.destroy(); return; } // nobody left to answer
  const r = err.code === 'HPE_HEADER_OVERFLOW' ? REPLIES.headersTooLarge : REPLIES.badRequest;
  const out = renderOwn(cfg, r, {}, undefined);
  const head = [`HTTP/1.1 ${out.status} ${http.STATUS_CODES[out.status] ?? ''}`];
  for (const [k, v] of Object.entries(out.headers)) head.push(`${k}: ${v}`);
  head.push(`content-length: ${Buffer.byteLength(out.body)}`, 'connection: close', '', '');
  socket.end(head.join('\r\n') + out.body);
}
