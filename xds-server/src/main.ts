/** Process entry: env -> startXdsServer, graceful stop on SIGTERM/SIGINT. */
import { DEFAULT_PORTS, createLogger, envInt, envString, loadInternalToken, stackId } from '@faas/contracts';
import { startXdsServer } from './index';

async function main(): Promise<void> {
  const logger = createLogger('xds-server');
  let internalToken: string;
  try {
    internalToken = loadInternalToken();
  } catch (err) {
    // Without the secret the control API would be open to anyone on the host: refuse to start.
    logger.error('start_failed', { message: (err as Error).message, code: 'invalid_env' });
    process.exit(1);
  }
  const redisUrl = envString('REDIS_URL', '');
  const handle = await startXdsServer({
    host: envString('XDS_HOST', '127.0.0.1'),
    grpcPort: envInt('XDS_GRPC_PORT', DEFAULT_PORTS.xdsGrpc),
    httpPort: envInt('XDS_HTTP_PORT', DEFAULT_PORTS.xdsHttp),
    routerAddress: envString('ROUTER_ADDRESS', '0.0.0.0'),
    routerPort: envInt('ROUTER_PORT', DEFAULT_PORTS.router, process.env, 1),
    ...(redisUrl !== '' ? { redisUrl } : {}),
    stack: stackId(),
    logger,
    internalToken,
  });
  logger.info('ready', { grpcPort: handle.grpcPort, httpPort: handle.httpPort });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    handle.close().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error('stop_failed', { message: err.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: Error) => {
  createLogger('xds-server').error('start_failed', { message: err.message, code: (err as { code?: string }).code });
  process.exit(1);
});
