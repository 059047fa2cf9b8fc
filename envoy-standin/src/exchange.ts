/**
 * One downstream request's trip upstream: attempts on hosts the balancer picks, the connect
 * timeout, the `Expect: 100-continue` hold of the body, retries of attempts that never reached
 * the runtime (retry.ts), the route timeout, then the streamed response or a local reply, and
 * the stats and access line of the outcome. proxy.ts routes the request and starts one.
 */
import * as http from 'node:http';
import type * as net from 'node:net';
import type { ClusterRuntime, Host, Waiter } from './cluster-runtime';
import { logAccess, responseHeaders, upstreamHeaders } from './forwarding';
import type { LocalReplyConfig } from './local-reply';
import type { ResponseFlag, RouteModel } from './model';
import { type OwnReply, REPLIES, localReply, resetReply } from './own-replies';
import { classifyFailure, shouldRetry } from './retry';

/** What an exchange needs of the proxy: the upstream agent, the balancer's randomness, the access log. */
export interface ExchangeContext {
  agent: http.Agent;
  random: () => number;
  /** Buffered access log writer, or undefined when off. */
  accessLog: ((line: string) => void) | undefined;
}

/** Request bytes held before 100 Continue (kept for a retry); beyond, reading pauses. */
const HOLD_LIMIT = 1024 * 1024;
const RETRY_BASE_MS = 25;
/**
 * An upstream that ignores Expect gets the body after this (curl waits 1 s). The platform's
 * runtimes answer 100 at once, so it only matters for others: generous, so a starved machine
 * does not take a slow 100 for "ignored" and count a never-reached request as reached.
 */
const CONTINUE_TIMEOUT_MS = 3000;

export class Exchange implements Waiter {
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
  /** Request chunks held until the current attempt's 100 Continue (replayed on a retry). */
  private chunks: Buffer[] = [];
  private held = 0;
  private responded = false;
  private readonly t0 = performance.now();
  private headers: http.OutgoingHttpHeaders | undefined;
  /** Current attempt: its connection is established; the runtime answered (100 or a response). */
  private connected = false;
  private reached = false;
  private continueTimer: NodeJS.Timeout | undefined;
  /** Waiting for the cluster's hosts to change (every healthy host already failed). */
  private unhold: (() => void) | undefined;

  constructor(
    private readonly ctx: ExchangeContext,
    private readonly cluster: ClusterRuntime,
    private readonly route: RouteModel,
    private readonly path: string,
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly rid: string,
    private readonly replyCfg: LocalReplyConfig,
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
        this.finishLocal(REPLIES.overflow, false, { 'x-envoy-overloaded': 'true' });
        break;
    }
  }

  grant(): void {
    this.holdsSlot = true;
    if (this.done) { this.releaseSlot(); return; }
    this.attempt();
  }

  private attempt(): void {
    this.unhold = undefined;
    if (this.done) return;
    const cluster = this.cluster;
    const tried = this.tried;
    const host = cluster.pick(this.ctx.random, tried);
    if (host === undefined || tried?.has(host) === true) {
      if (tried !== undefined) {
        // A retry: only a host that has not failed it, so wait (route timeout bounds it) for
        // an endpoint update or a host with room.
        this.unhold = cluster.onHostsChange(() => this.attempt());
        return;
      }
      if (cluster.healthy.length > 0) {
        // Every healthy host is at its per-host limit.
        this.holdsSlot = false;
        cluster.requeue(this);
        return;
      }
      cluster.cNoneHealthy.inc();
      this.finishLocal(REPLIES.noHealthy, false);
      return;
    }
    cluster.acquireHost(host);
    this.host = host;
    cluster.cRqTotal.inc();
    this.headers ??= upstreamHeaders(this.req);
    this.connected = false;
    this.reached = false;
    const up = http.request({ host: host.address, port: host.port, method: this.req.method, path: this.path, headers: this.headers, agent: this.ctx.agent });
    this.upReq = up;
    up.on('socket', (sock) => this.onSocket(up, sock));
    up.on('continue', () => this.onContinue(up));
    up.on('response', (ur) => this.onResponse(up, ur));
    up.on('error', (err) => this.onUpstreamError(up, err));
    if (!this.hasBody) { up.end(); return; }
    this.continueTimer = setTimeout(() => this.onContinue(up), CONTINUE_TIMEOUT_MS);
    if (!this.bodyStarted) {
      this.bodyStarted = true;
      this.req.on('data', (c: Buffer) => this.onData(c));
      this.req.on('end', () => { this.bodyEnded = true; if (this.reached) this.upReq?.end(); });
    }
  }

  /** Emitted before the request is flushed: a new connection gets the connect timeout. */
  private onSocket(up: http.ClientRequest, sock: net.Socket): void {
    if (this.upReq !== up) return;
    if (!sock.connecting) { this.connected = true; return; }
    const timer = setTimeout(() => {
      const err: NodeJS.ErrnoException = new Error('connect timeout');
      err.code = 'ETIMEDOUT';
      up.destroy(err);
    }, this.cluster.connectTimeoutMs);
    sock.once('connect', () => { clearTimeout(timer); if (this.upReq === up) this.connected = true; });
    sock.once('close', () => clearTimeout(timer));
  }

  /** The runtime read the head: send what is held, then stream the rest. No retry from here. */
  private onContinue(up: http.ClientRequest): void {
    clearTimeout(this.continueTimer);
    if (this.done || this.upReq !== up || this.reached) return;
    this.reached = true;
    if (!this.hasBody) return;
    for (const c of this.chunks) up.write(c);
    this.chunks = [];
    if (this.bodyEnded) up.end();
    else this.req.resume();
  }

  private onData(chunk: Buffer): void {
    const up = this.upReq;
    if (up === undefined || !this.reached) {
      // Before 100 Continue (or between attempts): hold for this or the next attempt.
      this.chunks.push(chunk);
      this.held += chunk.length;
      if (this.held > HOLD_LIMIT) this.req.pause();
      return;
    }
    if (!up.write(chunk)) {
      this.req.pause();
      up.once('drain', () => { if (this.upReq === up) this.req.resume(); });
    }
  }

  private onResponse(up: http.ClientRequest, ur: http.IncomingMessage): void {
    if (this.done || this.upReq !== up) { ur.resume(); return; }
    clearTimeout(this.continueTimer);
    // A retriable status answered before 100 Continue: the runtime refused the request before
    // its handler (429 concurrency_limit), so another host, or this one later, may take it.
    const host = this.host;
    if (!this.reached && host !== undefined && this.retriesLeft > 0 && this.route.retryOn.statusCodes.includes(ur.statusCode ?? 0)) {
      ur.resume();
      up.destroy();
      this.upReq = undefined;
      this.detachHost();
      // Not marked as tried: a refusal says "busy now", and this host may be the only one.
      this.scheduleRetry(undefined);
      return;
    }
    // A final answer without 100 Continue (e.g. an early 413): the body is never sent, so
    // the connection cannot be reused.
    if (this.hasBody && !this.reached) ur.once('end', () => up.destroy());
    this.reached = true;
    this.responded = true;
    this.chunks = [];
    const status = ur.statusCode ?? 502;
    this.res.writeHead(status, responseHeaders(ur.rawHeaders));
    ur.pipe(this.res);
    ur.once('end', () => this.complete(status));
    ur.once('error', () => { this.res.destroy(); this.complete(status); });
  }

  private onUpstreamError(up: http.ClientRequest, err: NodeJS.ErrnoException): void {
    if (this.done || this.upReq !== up) return;
    clearTimeout(this.continueTimer);
    this.upReq = undefined;
    const host = this.host;
    this.detachHost();
    if (this.responded) { this.res.destroy(); this.complete(this.res.statusCode); return; }
    const failure = classifyFailure(this.connected, this.reached);
    const retriable = host !== undefined && shouldRetry(this.route.retryOn, failure);
    if (retriable && this.retriesLeft > 0) {
      this.scheduleRetry(host);
      return;
    }
    const reason = failure !== 'connect_failure' ? 'connection termination' : err.message === 'connect timeout' ? 'connection timeout' : 'connection failure';
    // URX: retries ran out for a request that never reached the runtime; UC: the runtime had it.
    const flag: ResponseFlag = retriable && this.route.numRetries > 0 ? 'URX' : failure === 'connect_failure' ? 'UF' : 'UC';
    this.finishLocal(resetReply(flag, reason), true);
  }

  /** Another attempt after a jittered back-off, preferring hosts this request has not tried. */
  private scheduleRetry(host: NonNullable<typeof this.host> | undefined): void {
    this.retriesLeft--;
    if (host !== undefined) (this.tried ??= new Set()).add(host);
    this.cluster.cRetry.inc();
    const n = this.route.numRetries - this.retriesLeft;
    setTimeout(() => this.attempt(), this.ctx.random() * RETRY_BASE_MS * 2 ** (n - 1));
  }

  private onTimeout(): void {
    if (this.done) return;
    this.cluster.cTimeout.inc();
    this.abortUpstream();
    this.finishLocal(REPLIES.timeout, true);
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
    clearTimeout(this.continueTimer);
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
    this.unhold?.();
    this.unhold = undefined;
    this.chunks = [];
    if (!this.holdsSlot) this.cluster.cancel(this);
    this.releaseSlot();
    if (this.bodyStarted && !this.bodyEnded) this.req.resume(); // drain what the client still sends
  }

  /** A reply of our own; `charge` counts it as an upstream code like Envoy's upstream aborts. */
  private finishLocal(r: OwnReply, charge: boolean, extra?: Record<string, string>): void {
    this.abortUpstream();
    this.finish();
    const status = localReply(this.res, this.replyCfg, r, this.req, this.cluster, extra);
    if (charge) this.cluster.countCode(status);
    logAccess(this.ctx.accessLog, this.req, status, this.cluster.name, performance.now() - this.t0, this.rid);
  }

  private complete(status: number): void {
    if (this.done) return;
    this.upReq = undefined;
    this.detachHost();
    this.finish();
    const ms = performance.now() - this.t0;
    this.cluster.countCode(status);
    this.cluster.recordTime(Math.round(ms));
    logAccess(this.ctx.accessLog, this.req, status, this.cluster.name, ms, this.rid);
  }
}
