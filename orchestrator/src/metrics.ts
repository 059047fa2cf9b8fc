/** The orchestrator's own statsd metrics (hot-shots). No-op unless FAAS_STATSD_ADDRESS is set. */
import StatsD from 'hot-shots';
import { type ColdStartRecord, PLATFORM_METRICS } from '@faas/contracts';

export interface PlatformMetrics {
  coldStart(r: ColdStartRecord): void;
  instances(fn: string, n: number): void;
  close(): Promise<void>;
}

export function createMetrics(address: string | undefined): PlatformMetrics {
  const [host, port] = (address ?? '').split(':');
  const client = new StatsD({
    host: host || '127.0.0.1',
    port: Number(port) || 8125,
    mock: !address,
    errorHandler: () => undefined, // metrics must never take the orchestrator down
  });
  return {
    coldStart(r) {
      const tags = { fn: r.fn };
      client.timing(PLATFORM_METRICS.coldStartMs, r.totalMs, tags);
      client.timing(PLATFORM_METRICS.containerStartMs, r.containerStartMs, tags);
      client.timing(PLATFORM_METRICS.readinessMs, r.readinessMs, tags);
      client.timing(PLATFORM_METRICS.routeAckMs, r.routeAckMs, tags);
    },
    instances(fn, n) {
      client.gauge(PLATFORM_METRICS.instances, n, { fn });
    },
    close: () => new Promise((resolve) => client.close(() => resolve())),
  };
}
