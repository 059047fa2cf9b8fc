/** Process entry of redis-rest: env config, start, graceful stop on SIGTERM/SIGINT. */
import { DEFAULT_PORTS, createLogger, envInt, envString, loadInternalToken, stackId } from '@faas/contracts';
import { startRedisRest } from './index';

const logger = createLogger('redis-rest');

async function main(): Promise<void> {
  const host = envString('REDIS_REST_HOST', '127.0.0.1');
  const port = envInt('REDIS_REST_PORT', DEFAULT_PORTS.redisRest);
  const redisUrl = envString('REDIS_URL', `redis://127.0.0.1:${DEFAULT_PORTS.redis}`);
  const stack = stackId();
  // Refuses to start without the shared secret (start_failed names the variable).
  const internalToken = loadInternalToken();
  const server = await startRedisRest({ host, port, redisUrl, stack, logger, internalToken });
  logger.info('ready', { host, port: server.port, stack });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    server.close().then(() => process.exit(0), (err: unknown) => {
      logger.error('stop_failed', { error: err });
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  logger.error('start_failed', { error: err });
  process.exit(1);
});
