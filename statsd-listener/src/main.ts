/** Process entry of the statsd-listener. */
import { DEFAULT_PORTS, DEMAND_ALERT_MIN_INTERVAL_MS, ENVOY_STATSD_PREFIX, createLogger, envInt, envString, stackId } from '@faas/contracts';
import { startStatsdListener } from './listener';

async function main(): Promise<void> {
  const log = createLogger('statsd-listener');
  try {
    const listener = await startStatsdListener({
      host: envString('STATSD_HOST', '127.0.0.1'),
      port: envInt('STATSD_PORT', DEFAULT_PORTS.statsd),
      redisUrl: envString('REDIS_URL', `redis://127.0.0.1:${DEFAULT_PORTS.redis}`),
      stack: stackId(),
      windowMs: envInt('STATSD_WINDOW_MS', 1000, process.env, 10, 600_000),
      prefix: envString('STATSD_PREFIX', ENVOY_STATSD_PREFIX),
      alertMinIntervalMs: envInt('STATSD_ALERT_INTERVAL_MS', DEMAND_ALERT_MIN_INTERVAL_MS, process.env, 0, 600_000),
      logger: log,
    });
    const stop = (signal: string) => {
      log.info('stopping', { signal });
      listener.close().then(() => process.exit(0), () => process.exit(1));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  } catch (err) {
    log.error('start_failed', { error: err });
    process.exit(1);
  }
}

void main();
