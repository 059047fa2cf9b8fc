/**
 * Turns the accepted xDS configuration (XdsStore) into live objects: one ClusterRuntime per
 * cluster (hosts, circuit breaker, stats) and one bound HTTP server per socket listener.
 * Called after every accepted response; cheap when nothing changed.
 */
import * as http from 'node:http';
import type { Logger } from '@faas/contracts';
import { ClusterRuntime } from './cluster-runtime';
import type { ListenerModel } from './model';
import { replyCodecError } from './own-replies';
import { type ListenerRuntime, type ProxyContext, handleRequest } from './proxy';
import type { StatsRegistry } from './stats';
import type { XdsStore } from './store';
import { UpstreamAgent } from './upstream-agent';

interface BoundListener {
  rt: ListenerRuntime;
  server: http.Server;
  host: string;
  port: number;
  /** Port actually bound (0 until listening). */
  boundPort: number;
}

export class StandinRuntime {
  readonly clusters = new Map<string, ClusterRuntime>();
  private readonly listeners = new Map<string, BoundListener>();
  private readonly listenerWaiters: Array<() => void> = [];
  readonly ctx: ProxyContext;
  private readonly agent = new UpstreamAgent();
  /** Every host (address:port) in some cluster after the last sync, DRAINING ones included. */
  private knownHosts = new Map<string, { address: string; port: number }>();

  constructor(
    private readonly store: XdsStore,
    private readonly stats: StatsRegistry,
    private readonly logger: Logger,
    private readonly bindAddress: string | undefined,
    accessLog: ((line: string) => void) | undefined,
  ) {
    this.ctx = {
      routes: store.routes,
      clusters: this.clusters,
      agent: this.agent,
      random: Math.random,
      accessLog,
    };
  }

  /** Clusters and their endpoints from the store. */
  syncClusters(): void {
    for (const [name, model] of this.store.clusters) {
      let rt = this.clusters.get(name);
      if (rt === undefined) {
        rt = new ClusterRuntime(name, model, this.stats);
        this.clusters.set(name, rt);
      } else {
        rt.updateModel(model);
      }
      const eps = model.staticEndpoints ?? (model.edsServiceName !== undefined ? this.store.endpoints.get(model.edsServiceName)?.endpoints : undefined);
      // A new EDS cluster has no hosts until its ClusterLoadAssignment arrives (Envoy: warming).
      rt.setEndpoints(eps ?? []);
    }
    for (const [name, rt] of this.clusters) {
      if (!this.store.clusters.has(name)) {
        this.clusters.delete(name);
        rt.dispose();
      }
    }
    this.drainRemovedHosts();
  }

  /**
   * Hosts gone from every cluster get their pooled connections drained (upstream-agent.ts).
   * The pool is shared by all clusters, so a host still in one of them keeps it.
   */
  private drainRemovedHosts(): void {
    const now = new Map<string, { address: string; port: number }>();
    for (const rt of this.clusters.values()) for (const h of rt.hosts) now.set(h.key, { address: h.address, port: h.port });
    for (const [key, h] of this.knownHosts) {
      if (now.has(key)) continue;
      const r = this.agent.drainHost(h.address, h.port);
      if (r.idleClosed + r.activeClosing > 0) this.logger.debug('upstream_host_drained', { host: key, ...r });
    }
    this.knownHosts = now;
  }

  /** Bind new listeners, rebind moved ones, close removed ones. */
  syncListeners(): void {
    for (const [name, model] of this.store.listeners) {
      const host = this.bindAddress ?? model.address;
      const cur = this.listeners.get(name);
      if (cur !== undefined && cur.host === host && cur.port === model.port) {
        cur.rt.model = model;
        continue;
      }
      if (cur !== undefined) this.closeListener(name, cur);
      this.bind(name, model, host);
    }
    for (const [name, bl] of this.listeners) if (!this.store.listeners.has(name)) this.closeListener(name, bl);
  }

  private bind(name: string, model: ListenerModel, host: string): void {
    const rt: ListenerRuntime = { model, downstreamActive: 0 };
    const ctx = this.ctx;
    const server = http.createServer((req, res) => handleRequest(ctx, rt, req, res));
    // The gateway keeps upstream connections alive: outlive its idle timeout.
    server.keepAliveTimeout = 75_000;
    server.headersTimeout = 80_000;
    server.requestTimeout = 0;
    const bl: BoundListener = { rt, server, host, port: model.port, boundPort: 0 };
    this.listeners.set(name, bl);
    server.on('connection', (s) => s.setNoDelay(true));
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => replyCodecError(rt.model.localReply, err, socket));
    server.once('error', (err: NodeJS.ErrnoException) => {
      // Envoy would reject the listener; the stand-in logs and keeps the rest running.
      this.logger.error('listener_bind_failed', { listener: name, host, port: model.port, message: err.message, code: err.code });
      if (this.listeners.get(name) === bl) this.listeners.delete(name);
    });
    server.listen(model.port, host, () => {
      const a = server.address();
      bl.boundPort = typeof a === 'object' && a !== null ? a.port : model.port;
      this.logger.info('listener_bound', { listener: name, host, port: bl.boundPort });
      for (const w of this.listenerWaiters.splice(0)) w();
    });
  }

  private closeListener(name: string, bl: BoundListener): void {
    this.listeners.delete(name);
    bl.server.close();
    bl.server.closeIdleConnections();
    this.logger.info('listener_closed', { listener: name, host: bl.host, port: bl.port });
  }

  listenerPorts(): number[] {
    const out: number[] = [];
    for (const bl of this.listeners.values()) if (bl.boundPort !== 0) out.push(bl.boundPort);
    return out;
  }

  /** Sum of in-flight downstream requests per HCM stat prefix. */
  downstreamActive(statPrefix: string): number {
    let n = 0;
    for (const bl of this.listeners.values()) if (bl.rt.model.statPrefix === statPrefix) n += bl.rt.downstreamActive;
    return n;
  }

  statPrefixes(): string[] {
    const out = new Set<string>();
    for (const bl of this.listeners.values()) out.add(bl.rt.model.statPrefix);
    return [...out];
  }

  waitForListener(timeoutMs: number): Promise<void> {
    if (this.listenerPorts().length > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.listenerWaiters.indexOf(done);
        if (i >= 0) this.listenerWaiters.splice(i, 1);
        reject(new Error(`no listener bound within ${timeoutMs} ms (has the xDS server pushed one?)`));
      }, timeoutMs);
      const done = () => { clearTimeout(timer); resolve(); };
      this.listenerWaiters.push(done);
    });
  }

  async close(): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map((bl) => new Promise<void>((resolve) => {
      bl.server.close(() => resolve());
      bl.server.closeAllConnections();
    })));
    this.agent.destroy();
  }
}
