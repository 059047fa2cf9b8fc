/**
 * The UDP edge: receive datagrams, parse, aggregate, and every window write each
 * function's FunctionMetrics and the listener's own counters to Redis.
 */
import * as dgram from 'node:dgram';
import { Redis } from 'ioredis';
import {
  DEMAND_ALERT_MIN_INTERVAL_MS, type DemandAlert, ENVOY_STATSD_PREFIX, FaasError, type FunctionMetrics, type Logger, createLogger, redisKeys,
} from '@faas/contracts';
import { MetricsAggregator } from './aggregate';
import { DemandAlertGate, alertReason } from './demand-alerts';
import { parseDatagram } from './parse';

export interface StatsdListenerOptions {
  host?: string;
  /** 0 picks a free port (tests). Default 8125. */
  port?: number;
  redisUrl: string;
  stack?: string;
  windowMs?: number;
  /** Statsd prefix of Envoy's sink (StatsdSink.prefix). */
  prefix?: string;
  /** A router silent this long leaves the gauge sums. Default 3 windows. */
  staleMs?: number;
  /** How often the defined functions are re-read from Redis. Default 3000 ms. */
  definedRefreshMs?: number;
  /** At most one demand alert per function per this many ms; 0 sends none. Default 250. */
  alertMinIntervalMs?: number;
  /** Clock (tests); default Date.now. */
  now?: () => number;
  logger?: Logger;
}

export interface StatsdListener {
  port: number;
  close(): Promise<void>;
  /** Totals since start, for tests and logs. */
  counters(): { received: number; lines: number; malformed: number; alerts: number };
}

export class StatsdListenerError extends FaasError {}

/** Metrics hashes live this many windows without refresh, so a dead listener's figures vanish. */
const EXPIRE_WINDOWS = 5;
/**
 * A demand alert waits this long after its trigger so that the rest of the router's flush (one
 * datagram per stat) is in the figures it carries.
 */
const ALERT_COALESCE_MS = 5;
/** At most one malformed-line log per this many ms (a flood must not flood the log). */
const MALFORMED_LOG_INTERVAL_MS = 5000;

/** Every field of FunctionMetrics as Redis hash strings. */
export function metricsFields(m: FunctionMetrics): Record<keyof FunctionMetrics, string> {
  return {
    rqActive: String(m.rqActive),
    rqPendingActive: String(m.rqPendingActive),
    rqPerSecond: String(m.rqPerSecond),
    pendingOverflow: String(m.pendingOverflow),
    noneHealthy: String(m.noneHealthy),
    latencyMedianMs: String(m.latencyMedianMs),
    latencyP99Ms: String(m.latencyP99Ms),
    routers: String(m.routers),
    windowMs: String(m.windowMs),
    updatedAt: String(m.updatedAt),
  };
}

export async function startStatsdListener(opts: StatsdListenerOptions): Promise<StatsdListener> {
  const host = opts.host ?? '127.0.0.1';
  const windowMs = opts.windowMs ?? 1000;
  const stack = opts.stack ?? 'default';
  const log = opts.logger ?? createLogger('statsd-listener');
  const clock = opts.now ?? Date.now;
  const definedRefreshMs = opts.definedRefreshMs ?? 3000;
  if (!Number.isInteger(windowMs) || windowMs < 10) {
    throw new StatsdListenerError('invalid_option', `windowMs must be a whole number of ms >= 10, got ${String(windowMs)}`, { windowMs });
  }
  const keys = redisKeys(stack);
  const agg = new MetricsAggregator({ prefix: opts.prefix ?? ENVOY_STATSD_PREFIX, staleMs: opts.staleMs ?? windowMs * 3 });
  // Fail fast while Redis is away instead of queueing writes without bound.
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  redis.on('error', (err: Error) => log.warn('redis_error', { message: err.message }));
  // Not fatal: ioredis keeps reconnecting, and the defined set is re-read every refresh.
  const connected = redis.connect().catch((err: Error) => log.warn('redis_connect_failed', { message: err.message }));

  const totals = { received: 0, lines: 0, malformed: 0, alerts: 0 };
  const alertMinIntervalMs = opts.alertMinIntervalMs ?? DEMAND_ALERT_MIN_INTERVAL_MS;
  const gate = new DemandAlertGate(alertMinIntervalMs);
  const alertTimers = new Map<string, NodeJS.Timeout>();
  // Event-driven: queued requests reach the orchestrator now, not when the window closes.
  const publishAlert = (fn: string): void => {
    alertTimers.delete(fn);
    const metrics = agg.snapshot(fn, clock(), windowMs);
    const reason = metrics && alertReason(metrics);
    if (!metrics || !reason || redis.status !== 'ready') return;
    const alert: DemandAlert = { fn, reason, metrics };
    totals.alerts++;
    redis.publish(keys.demandChannel, JSON.stringify(alert)).catch((err: Error) => log.warn('demand_alert_failed', { fn, message: err.message }));
  };
  const considerAlert = (fn: string, now: number): void => {
    if (alertMinIntervalMs <= 0 || alertTimers.has(fn) || !gate.take(fn, now)) return;
    alertTimers.set(fn, setTimeout(publishAlert, ALERT_COALESCE_MS, fn));
  };
  const pending = { received: 0, lines: 0, malformed: 0 };
  let lastMalformedLog = 0;
  let suppressed = 0;

  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const parsed = parseDatagram(msg.toString('utf8'));
    totals.received++; pending.received++;
    totals.lines += parsed.lines; pending.lines += parsed.lines;
    if (parsed.malformed.length > 0) {
      totals.malformed += parsed.malformed.length; pending.malformed += parsed.malformed.length;
      const now = clock();
      if (now - lastMalformedLog >= MALFORMED_LOG_INTERVAL_MS) {
        const first = parsed.malformed[0];
        log.warn('malformed_line', { source: `${rinfo.address}:${rinfo.port}`, line: first?.line, reason: first?.reason, suppressed });
        lastMalformedLog = now;
        suppressed = parsed.malformed.length - 1;
      } else {
        suppressed += parsed.malformed.length;
      }
    }
    if (parsed.metrics.length > 0) {
      const now = clock();
      for (const fn of agg.ingest(`${rinfo.address}:${rinfo.port}`, parsed.metrics, now)) considerAlert(fn, now);
    }
  });
  socket.on('error', (err) => log.error('udp_error', { message: err.message }));
  try {
    await new Promise<void>((resolve, reject) => {
      const onErr = (err: Error) => reject(new StatsdListenerError('bind_failed', `cannot bind UDP ${host}:${opts.port ?? 8125}: ${err.message}`, { host, port: opts.port }));
      socket.once('error', onErr);
      socket.bind(opts.port ?? 8125, host, () => { socket.off('error', onErr); resolve(); });
    });
  } catch (err) {
    // Nothing else will ever close them: a failed start must not keep the process alive.
    redis.disconnect();
    try {
      socket.close();
    } catch {
      /* never bound: nothing to close */
    }
    throw err;
  }
  const port = socket.address().port;

  let flushing = false;
  const flush = async () => {
    const now = clock();
    const figures = agg.closeWindow(now, windowMs);
    gate.prune(now);
    const delta = { ...pending };
    pending.received = 0; pending.lines = 0; pending.malformed = 0;
    if (flushing) return; // a slow Redis: skip this write rather than pile up
    if (figures.size === 0 && delta.received === 0) return;
    if (redis.status !== 'ready') return; // offline queue is off: the write would only fail
    flushing = true;
    try {
      const p = redis.pipeline();
      for (const [fn, m] of figures) {
        const key = keys.metrics(fn);
        p.hset(key, metricsFields(m));
        p.pexpire(key, windowMs * EXPIRE_WINDOWS);
      }
      if (delta.received > 0) {
        p.hincrby(keys.statsdCounters, 'received', delta.received);
        p.hincrby(keys.statsdCounters, 'lines', delta.lines);
        p.hincrby(keys.statsdCounters, 'malformed', delta.malformed);
      }
      const res = await p.exec();
      const failed = res?.find(([err]) => err !== null);
      if (failed) log.warn('redis_write_failed', { message: (failed[0] as Error).message });
    } catch (err) {
      log.warn('redis_write_failed', { message: (err as Error).message });
    } finally {
      flushing = false;
    }
  };
  // The defined set is the orchestrator's `functions` hash; while Redis is away the last one stays.
  let refreshing: Promise<void> | undefined;
  const refreshDefined = (): Promise<void> => {
    refreshing ??= (async () => {
      try {
        const fns = await redis.hkeys(keys.functions);
        if (fns.length !== agg.definedCount()) log.info('defined_functions', { count: fns.length });
        agg.setDefined(fns);
      } catch (err) {
        log.warn('defined_refresh_failed', { message: (err as Error).message });
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  };
  // After a Redis restart, read the set at once rather than at the next refresh.
  redis.on('ready', () => { void refreshDefined(); });
  await connected;
  await refreshDefined();
  const timer = setInterval(() => { void flush(); }, windowMs);
  const definedTimer = setInterval(() => { void refreshDefined(); }, definedRefreshMs);

  log.info('ready', { host, port, stack, windowMs });
  let closed: Promise<void> | undefined;
  return {
    port,
    counters: () => ({ ...totals }),
    close() {
      closed ??= (async () => {
        clearInterval(timer);
        clearInterval(definedTimer);
        for (const t of alertTimers.values()) clearTimeout(t);
        alertTimers.clear();
        await new Promise<void>((resolve) => socket.close(() => resolve()));
        await flush();
        redis.disconnect();
      })();
      return closed;
    },
  };
}
