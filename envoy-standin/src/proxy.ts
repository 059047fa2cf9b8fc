/**
 * The HTTP/1.1 data path: route, circuit-break/queue, pick a host, stream the request
 * and the response, retry pre-response failures, enforce the route timeout, count stats.
 * Kept lean: a few small objects per request, no logging on the hot path except the
 * optional buffered access log.
 */
import * as http from 'node:http';
import type * as net from 'node:net';
import { randomUUID } from 'node:crypto';
import type { ClusterRuntime, Host, Waiter } from './cluster-runtime';
import type { ListenerModel, LocalReplyMapper, ResponseFlag, RouteModel, RouteTable } from './model';
import { classifyFailure, shouldRetry } from './retry';
import { matchRoute } from './route-match';

export interface ProxyContext {
  routes: ReadonlyMap<string, RouteTable>;
  clusters: ReadonlyMap<string, ClusterRuntime>;
  agent: http.Agent;
  random: () => number;
  /** Buffered access log writer, or undefined when off. */
  accessLog: ((line: string) => void) | undefined;
}

/** Per bound listener: its current model and the in-flight downstream count. */
export interface ListenerRuntime {
  model: ListenerModel;
  downstreamActive: number;
}

const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings',
]);
/** Request bytes kept for a replay on retry (Envoy's default buffer limit). Beyond: no retry. */
const RETRY_BUFFER_LIMIT = 1024 * 1024;
const RETRY_BASE_MS = 25;

/**
 * A reply of the stand-in's own, tagged with its Envoy response flag: the listener's first
 * local_reply_config mapper whose flags include it adds its headers (Envoy's behaviour).
 */
function localReply(res: http.ServerResponse, status: number, body: string, flag: ResponseFlag, mappers: readonly LocalReplyMapper[], extra?: Record<string, string>): void {
  if (res.headersSent) { res.destroy(); return; }
  const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(body), 'content-type': 'text/plain' };
  if (extra) Object.assign(headers, extra);
  for (const mp of mappers) {
    if (!mp.flags.has(flag)) continue;
    for (const [k, v] of mp.headers) headers[k] = v;
    break;
  }
  res.writeHead(status, headers);
  res.end(body);
}

export function handleRequest(ctx: ProxyContext, lr: ListenerRuntime, req: http.IncomingMessage, res: http.ServerResponse): void {
  lr.downstreamActive++;
  res.once('close', () => { lr.downstreamActive--; });
  let rid = req.headers['x-request-id'];
  if (typeof rid !== 'string' || rid === '') {
    rid = randomUUID();
    req.headers['x-request-id'] = rid;
  }
  const m = lr.model;
  const table = m.inlineRoutes ?? (m.routeConfigName !== undefined ? ctx.routes.get(m.routeConfigName) : undefined);
  const d = table !== undefined ? matchRoute(table, req.headers.host, req.url ?? '/') : undefined;
  if (d === undefined) {
    localReply(res, 404, '', 'NR', m.localReplyMappers);
    log(ctx, req, 404, '-', 0, rid);
    return;
  }
  const cluster = ctx.clusters.get(d.route.cluster);
  if (cluster === undefined) {
    localReply(res, 503, '', 'NC', m.localReplyMappers); // Envoy: cluster not found
    log(ctx, req, 503, d.route.cluster, 0, rid);
    return;
  }
  if (cluster.healthy.length === 0) {
    cluster.cNoneHealthy.inc();
    localReply(res, 503, 'no healthy upstream', 'UH', m.localReplyMappers);
    log(ctx, req, 503, cluster.name, 0, rid);
    return;
  }
  new Exchange(ctx, cluster, d.route, d.upstreamPath, req, res, rid, m.localReplyMappers).start();
}

function log(ctx: ProxyContext, req: http.IncomingMessage, status: number, cluster: string, ms: number, rid: string): void {
  if (ctx.accessLog === undefined) return;
  ctx.accessLog(`{"ts":"${new Date().toISOString()}","component":"envoy-standin","event":"access","method":${JSON.stringify(req.method)},"path":${JSON.stringify(req.url)},"status":${status},"cluster":${JSON.stringify(cluster)},"ms":${ms.toFixed(2)},"requestId":${JSON.stringify(rid)}}\n`);
}

function upstreamHeaders(req: http.IncomingMessage): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  const src = req.headers;
  for (const k in src) if (!HOP_BY_HOP.has(k)) out[k] = src[k];
  const remote = req.socket.remoteAddress;
  if (remote !== undefined) {
    const prev = src['x-forwarded-for'];
    out['x-forwarded-for'] = typeof prev === 'string' && prev !== '' ? `${prev}, ${remote}` : remote;
  }
  if (out['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = 'http';
  return out;
}

function responseHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i] as string;
    if (!HOP_BY_HOP.has(k.toLowerCase())) out.push(k, raw[i + 1] as string);
  }
  return out;
}

class Exchange implements Waiter {
  private done = false;
  private holdsSlot = false;
  private timer: NodeJS.Timeout | undefined;
  private upReq: http.ClientRequest | undefined;
  private host: Host | undefined;
  private tried: Set<Host> | undefined;
  private retriesLeft: number;
  private readonly hasBody: boolean;
  private bodyStarted = false;
  private bodyEnded = false;
  /** Request chunks kept for a replay; null once too large or no longer needed. */
  private chunks: Buffer[] | null = [];
  private retained = 0;
  private responded = false;
  private readonly t0 = performance.now();
  private headers: http.OutgoingHttpHeaders | undefined;
  /** Current attempt: its connection is established; socket bytesWritten when it was assigned. */
  private connected = false;
  private sentBase = 0;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly cluster: ClusterRuntime,
    private readonly route: RouteModel,
    private readonly path: string,
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly rid: string,
    private readonly mappers: readonly LocalReplyMapper[],
  ) {
    this.retriesLeft = route.numRetries;
    const h = req.headers;
    this.hasBody = (h['content-length'] !== undefined && h['content-length'] !== '0') || h['transfer-encoding'] !== undefined;
  }

  start(): void {
    if (this.route.timeoutMs > 0) this.timer = setTimeout(() => this.onTimeout(), this.route.timeoutMs);
    this.res.once('close', () => this.onDownstreamClose());
    switch (this.cluster.admit(this)) {
      case 'now':
        this.holdsSlot = true;
        this.attempt();
        break;
      case 'queued':
        break;
      case 'overflow':
        this.finishLocal(503, 'upstream connect error or disconnect/reset before headers. reset reason: overflow', 'UO', false, { 'x-envoy-overloaded': 'true' });
        break;
    }
  }

  grant(): void {
    this.holdsSlot = true;
    if (this.done) { this.releaseSlot(); return; }
    this.attempt();
  }

  private attempt(): void {
    if (this.done) return;
    const cluster = this.cluster;
    const host = cluster.pick(this.ctx.random, this.tried);
    if (host === undefined) {
      if (cluster.healthy.length > 0) {
        // Every healthy host is at its per-host limit (room taken while this retry backed off).
        this.holdsSlot = false;
        cluster.requeue(this);
        return;
      }
      cluster.cNoneHealthy.inc();
      this.finishLocal(503, 'no healthy upstream', 'UH', false);
      return;
    }
    cluster.acquireHost(host);
    this.host = host;
    cluster.cRqTotal.inc();
    this.headers ??= upstreamHeaders(this.req);
    this.connected = false;
    const up = http.request({ host: host.address, port: host.port, method: this.req.method, path: this.path, headers: this.headers, agent: this.ctx.agent });
    this.upReq = up;
    up.on('socket', (sock) => this.onSocket(up, sock));
    up.on('response', (ur) => this.onResponse(up, ur));
    up.on('error', (err) => this.onUpstreamError(up, err));
    if (!this.hasBody) { up.end(); return; }
    if (!this.bodyStarted) {
      this.bodyStarted = true;
      this.req.on('data', (c: Buffer) => this.onData(c));
      this.req.on('end', () => { this.bodyEnded = true; this.upReq?.end(); });
      return;
    }
    // A retry: replay what the first attempt already sent.
    for (const c of this.chunks ?? []) up.write(c);
    if (this.bodyEnded) up.end();
    else this.req.resume();
  }

  /** Emitted before the request is flushed: the byte baseline; a new connection gets the connect timeout. */
  private onSocket(up: http.ClientRequest, sock: net.Socket): void {
    if (this.upReq !== up) return;
    this.sentBase = Number(sock.bytesWritten) || 0;
    if (!sock.connecting) { this.connected = true; return; }
    const timer = setTimeout(() => {
      const err: NodeJS.ErrnoException = new Error('connect timeout');
      err.code = 'ETIMEDOUT';
      up.destroy(err);
    }, this.cluster.connectTimeoutMs);
    sock.once('connect', () => { clearTimeout(timer); if (this.upReq === up) this.connected = true; });
    sock.once('close', () => clearTimeout(timer));
  }

  private onData(chunk: Buffer): void {
    if (this.chunks !== null && !this.responded) {
      this.retained += chunk.length;
      if (this.retained > RETRY_BUFFER_LIMIT) this.chunks = null;
      else this.chunks.push(chunk);
    }
    const up = this.upReq;
    if (up === undefined) { this.req.pause(); return; } // between attempts; replayed later
    if (!up.write(chunk)) {
      this.req.pause();
      up.once('drain', () => { if (this.upReq === up) this.req.resume(); });
    }
  }

  private onResponse(up: http.ClientRequest, ur: http.IncomingMessage): void {
    if (this.done || this.upReq !== up) { ur.resume(); return; }
    this.responded = true;
    this.chunks = null;
    const status = ur.statusCode ?? 502;
    this.res.writeHead(status, responseHeaders(ur.rawHeaders));
    ur.pipe(this.res);
    ur.once('end', () => this.complete(status));
    ur.once('error', () => { this.res.destroy(); this.complete(status); });
  }

  private onUpstreamError(up: http.ClientRequest, err: NodeJS.ErrnoException): void {
    if (this.done || this.upReq !== up) return;
    this.upReq = undefined;
    const host = this.host;
    this.detachHost();
    if (this.responded) { this.res.destroy(); this.complete(this.res.statusCode); return; }
    // Retry only what the route's retry_on allows for this failure: by default (connect-failure,
    // reset-before-request) never a request that may have reached the function.
    const sock = up.socket;
    // bytesWritten counts what was handed to the socket (NaN if the socket cannot tell).
    const written = this.connected && sock !== null ? Number(sock.bytesWritten) - this.sentBase : 0;
    const failure = classifyFailure(this.connected, written);
    if (this.retriesLeft > 0 && this.chunks !== null && host !== undefined && shouldRetry(this.route.retryOn, failure)) {
      this.retriesLeft--;
      (this.tried ??= new Set()).add(host);
      this.cluster.cRetry.inc();
      const n = this.route.numRetries - this.retriesLeft;
      setTimeout(() => this.attempt(), Math.random() * RETRY_BASE_MS * 2 ** (n - 1));
      return;
    }
    if (failure === 'connect_failure') {
      const reason = err.message === 'connect timeout' ? 'connection timeout' : 'connection failure';
      this.finishLocal(503, `upstream connect error or disconnect/reset before headers. reset reason: ${reason}`, 'UF', true);
    } else {
      this.finishLocal(503, 'upstream connect error or disconnect/reset before headers. reset reason: connection termination', 'UC', true);
    }
  }

  private onTimeout(): void {
    if (this.done) return;
    this.cluster.cTimeout.inc();
    this.abortUpstream();
    this.finishLocal(504, 'upstream request timeout', 'UT', true);
  }

  private onDownstreamClose(): void {
    if (this.done) return;
    // The client went away first: stop the upstream request and free the slot.
    this.abortUpstream();
    this.finish();
  }

  private abortUpstream(): void {
    const up = this.upReq;
    this.upReq = undefined;
    if (up !== undefined) up.destroy();
    this.detachHost();
  }

  private detachHost(): void {
    const h = this.host;
    if (h !== undefined) { this.host = undefined; this.cluster.releaseHost(h); }
  }

  private releaseSlot(): void {
    if (this.holdsSlot) { this.holdsSlot = false; this.cluster.release(); }
  }

  private finish(): void {
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (!this.holdsSlot) this.cluster.cancel(this);
    this.releaseSlot();
    if (this.bodyStarted && !this.bodyEnded) this.req.resume(); // drain what the client still sends
  }

  /** A reply of our own; `charge` counts it as an upstream code like Envoy's upstream aborts. */
  private finishLocal(status: number, body: string, flag: ResponseFlag, charge: boolean, extra?: Record<string, string>): void {
    this.abortUpstream();
    this.finish();
    if (charge) this.cluster.countCode(status);
    localReply(this.res, status, body, flag, this.mappers, extra);
    log(this.ctx, this.req, status, this.cluster.name, performance.now() - this.t0, this.rid);
  }

  private complete(status: number): void {
    if (this.done) return;
    this.upReq = undefined;
    this.detachHost();
    this.finish();
    const ms = performance.now() - this.t0;
    this.cluster.countCode(status);
    this.cluster.recordTime(Math.round(ms));
    log(this.ctx, this.req, status, this.cluster.name, ms, this.rid);
  }
}
