/**
 * envoy-standin: a DEV/TEST STAND-IN for Envoy. Envoy cannot be installed on the
 * development machines, so this process plays Envoy's part in the native stack and the
 * end-to-end tests: it reads Envoy's bootstrap (envoy/envoy.yaml), subscribes over ADS to
 * the real xds-server like Envoy does, proxies HTTP/1.1 by the pushed config and emits
 * Envoy's statsd metrics with Envoy's names. It is NEVER used in the compose deployment,
 * which runs real Envoy.
 */
import { createLogger, type Logger } from '@faas/contracts';
import { type AckNackEvent, AdsClient } from './ads-client';
import { applyOverrides, loadBootstrap, type StandinBootstrap } from './bootstrap';
import { type XdsKind } from './protos';
import { StandinRuntime } from './runtime';
import { StatsRegistry, hotShotsSink } from './stats';
import { XdsStore } from './store';

export type { AckNackEvent } from './ads-client';
export type { StandinBootstrap } from './bootstrap';
export { parseBootstrap, applyOverrides, loadBootstrap } from './bootstrap';
export { BootstrapError, ResourceError } from './errors';

export interface EnvoyStandinOptions {
  bootstrapPath: string;
  /** "host:port" of the ADS server (overrides the bootstrap's xds cluster). */
  xdsAddress?: string;
  /** "ip:port" of the statsd sink (the bootstrap's is a placeholder in this repo). */
  statsdAddress?: string;
  /** Replaces the IP of every listener pushed over LDS (native stack: 127.0.0.1). */
  bindAddress?: string;
  nodeId?: string;
  /** One JSON access-log line per request on stdout (buffered). Default false. */
  accessLog?: boolean;
  logger?: Logger;
  /** Test knobs: reconnect backoff. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export interface StandinStatus {
  connected: boolean;
  nodeId: string;
  protocol: 'sotw' | 'delta';
  versions: Record<XdsKind, string>;
  listeners: string[];
  routes: string[];
  clusters: Array<{ name: string; hosts: number; healthy: number; active: number; pending: number; maxRequests: number; maxPending: number }>;
}

export interface EnvoyStandin {
  close(): Promise<void>;
  /** Ports of the currently bound listeners. */
  listenerPorts(): number[];
  /** Resolves once at least one listener is bound. */
  waitForListener(timeoutMs?: number): Promise<void>;
  /** Subscribe to every ACK/NACK sent; returns an unsubscribe function. */
  onAckNack(cb: (ev: AckNackEvent) => void): () => void;
  status(): StandinStatus;
  /** Value of a counter by its Envoy name without the statsd prefix (tests). */
  counter(name: string): number;
  /** Flush stats now (tests); the timer also flushes every stats_flush_interval. */
  flushStats(): void;
  bootstrap: StandinBootstrap;
}

export async function startEnvoyStandin(opts: EnvoyStandinOptions): Promise<EnvoyStandin> {
  const logger = opts.logger ?? createLogger('envoy-standin');
  const boot = applyOverrides(loadBootstrap(opts.bootstrapPath), {
    ...(opts.xdsAddress !== undefined ? { xdsAddress: opts.xdsAddress } : {}),
    ...(opts.statsdAddress !== undefined ? { statsdAddress: opts.statsdAddress } : {}),
    ...(opts.nodeId !== undefined ? { nodeId: opts.nodeId } : {}),
  });

  const sink = boot.statsd ? hotShotsSink(boot.statsd.host, boot.statsd.port, boot.statsd.prefix, logger) : undefined;
  const stats = new StatsRegistry(sink);
  const store = new XdsStore();
  const access = opts.accessLog === true ? bufferedStdout() : undefined;
  const runtime = new StandinRuntime(store, stats, logger, opts.bindAddress !== undefined && opts.bindAddress !== '' ? opts.bindAddress : undefined, access?.write);
  const ackListeners = new Set<(ev: AckNackEvent) => void>();

  let connected = false;
  stats.gauge('control_plane.connected_state', () => (connected ? 1 : 0));
  const knownPrefixes = new Set<string>();

  const ads = new AdsClient({
    address: `${boot.xds.host.includes(':') ? `[${boot.xds.host}]` : boot.xds.host}:${boot.xds.port}`,
    protocol: boot.protocol,
    nodeId: boot.nodeId,
    nodeCluster: boot.nodeCluster,
    store,
    logger,
    ...(opts.backoffBaseMs !== undefined ? { backoffBaseMs: opts.backoffBaseMs } : {}),
    ...(opts.backoffMaxMs !== undefined ? { backoffMaxMs: opts.backoffMaxMs } : {}),
    onApplied: (kind) => {
      if (kind === 'cluster' || kind === 'endpoint') runtime.syncClusters();
      if (kind === 'listener') {
        runtime.syncListeners();
        // Listener changes can drop RDS names from the store; clusters are unaffected.
        for (const p of [...knownPrefixes]) if (!runtime.statPrefixes().includes(p)) { knownPrefixes.delete(p); stats.removePrefix(`http.${p}.`); }
        for (const p of runtime.statPrefixes()) {
          if (knownPrefixes.has(p)) continue;
          knownPrefixes.add(p);
          stats.gauge(`http.${p}.downstream_rq_active`, () => runtime.downstreamActive(p));
        }
      }
    },
    onAckNack: (ev) => { for (const cb of ackListeners) cb(ev); },
    onConnectedChange: (c) => {
      connected = c;
      logger.info(c ? 'xds_connected' : 'xds_disconnected', { xds: `${boot.xds.host}:${boot.xds.port}` });
    },
  });
  ads.start();
  const flushTimer = setInterval(() => stats.flush(), boot.flushIntervalMs);
  flushTimer.unref();

  let closing: Promise<void> | undefined;
  return {
    bootstrap: boot,
    close: () => (closing ??= (async () => {
      clearInterval(flushTimer);
      ads.close();
      await runtime.close();
      stats.flush();
      access?.flush();
      await sink?.close();
    })()),
    listenerPorts: () => runtime.listenerPorts(),
    waitForListener: (timeoutMs = 10_000) => runtime.waitForListener(timeoutMs),
    onAckNack: (cb) => { ackListeners.add(cb); return () => { ackListeners.delete(cb); }; },
    counter: (name) => stats.counterValue(name),
    flushStats: () => stats.flush(),
    status: () => ({
      connected,
      nodeId: boot.nodeId,
      protocol: boot.protocol,
      versions: { ...store.versions },
      listeners: [...store.listeners.keys()],
      routes: [...store.routes.keys()],
      clusters: [...runtime.clusters.values()].map((c) => ({
        name: c.name, hosts: c.hosts.length, healthy: c.healthy.length, active: c.active, pending: c.pendingCount(), maxRequests: c.maxRequests, maxPending: c.maxPending,
      })),
    }),
  };
}

/** Access-log lines gathered and written once per tick: no sync write per request. */
function bufferedStdout(): { write(line: string): void; flush(): void } {
  let buf = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (buf === '') return;
    const out = buf;
    buf = '';
    process.stdout.write(out);
  };
  return {
    write(line: string) {
      buf += line;
      if (buf.length > 65_536) flush();
      else if (!scheduled) { scheduled = true; setImmediate(flush); }
    },
    flush,
  };
}
