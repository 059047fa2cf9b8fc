/** Process entry of the gateway: env config, run nginx, stop it on SIGTERM/SIGINT. */
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_PORTS, GATEWAY_API_QUERY, FaasError, createLogger, envInt, envString, loadInternalToken } from '@faas/contracts';
import { startGateway } from './index';

const logger = createLogger('gateway');

async function main(): Promise<void> {
  const flavor = envString('NGINX_FLAVOR', 'debian');
  if (flavor !== 'debian' && flavor !== 'openresty') throw new FaasError('invalid_env', `environment variable NGINX_FLAVOR=${flavor} must be debian or openresty`);
  const internalToken = loadInternalToken();
  const gw = await startGateway({
    internalToken,
    host: envString('GATEWAY_HOST', '127.0.0.1'),
    port: envInt('GATEWAY_PORT', DEFAULT_PORTS.gateway, process.env, 1),
    workers: envInt('GATEWAY_WORKERS', 2, process.env, 1, 64),
    redisRestHost: envString('REDIS_REST_HOST', '127.0.0.1'),
    redisRestPort: envInt('REDIS_REST_PORT', DEFAULT_PORTS.redisRest, process.env, 1),
    routerHost: envString('ROUTER_HOST', '127.0.0.1'),
    routerPort: envInt('ROUTER_PORT', DEFAULT_PORTS.router, process.env, 1),
    wakeTimeoutMs: envInt('WAKE_TIMEOUT_MS', GATEWAY_API_QUERY.wakeTimeoutMs.fallback, process.env, GATEWAY_API_QUERY.wakeTimeoutMs.min, GATEWAY_API_QUERY.wakeTimeoutMs.max),
    maxBodyBytes: envInt('GATEWAY_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, process.env, 1, 2 ** 31 - 1),
    nginxBin: envString('NGINX_BIN', '/usr/sbin/nginx'),
    flavor,
    ...(process.env.GATEWAY_RESOLVER ? { resolver: envString('GATEWAY_RESOLVER', '') } : {}),
    ...(process.env.GATEWAY_CALL_SOCKET ? { callSocket: envString('GATEWAY_CALL_SOCKET', '') } : {}),
    logger,
  });
  logger.info('ready', { port: gw.port, prefix: gw.prefix, pid: gw.pid });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    gw.stop().then(() => process.exit(0), (err: unknown) => {
      logger.error('stop_failed', { error: err });
      process.exit(1);
    });
  };
  // nginx gone without being asked: exit non-zero so the supervisor (compose restart policy) restarts us.
  gw.exited.then(() => {
    if (stopping) return;
    logger.error('nginx_exited', { pid: gw.pid });
    gw.stop().finally(() => process.exit(1));
  }, () => undefined);
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  logger.error('start_failed', { error: err });
  process.exit(1);
});
