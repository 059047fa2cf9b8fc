/**
 * Process entry of the Envoy stand-in (dev/test only, never in compose).
 * Env: STANDIN_BOOTSTRAP (default envoy/envoy.yaml from the repo root), STANDIN_XDS_ADDRESS,
 * STANDIN_STATSD_ADDRESS, STANDIN_BIND_ADDRESS, STANDIN_NODE_ID, STANDIN_ACCESS_LOG=0/1,
 * STANDIN_READY_WAIT_MS (how long to wait for a pushed listener before logging ready anyway).
 */
import * as path from 'node:path';
import { createLogger, envInt, envString } from '@faas/contracts';
import { startEnvoyStandin } from './index';

const logger = createLogger('envoy-standin');

async function main(): Promise<void> {
  const repoRoot = path.resolve(__dirname, '..', '..', '..');
  const bootstrapPath = path.resolve(repoRoot, envString('STANDIN_BOOTSTRAP', path.join('envoy', 'envoy.yaml')));
  const accessLogEnv = envString('STANDIN_ACCESS_LOG', '0');
  if (accessLogEnv !== '0' && accessLogEnv !== '1') throw new Error(`environment variable STANDIN_ACCESS_LOG=${JSON.stringify(accessLogEnv)} must be 0 or 1`);
  const readyWaitMs = envInt('STANDIN_READY_WAIT_MS', 5000, process.env, 0, 600_000);
  const opt = (name: string): string | undefined => {
    const v = process.env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const xdsAddress = opt('STANDIN_XDS_ADDRESS');
  const statsdAddress = opt('STANDIN_STATSD_ADDRESS');
  const bindAddress = opt('STANDIN_BIND_ADDRESS');
  const nodeId = opt('STANDIN_NODE_ID');
  const standin = await startEnvoyStandin({
    bootstrapPath,
    accessLog: accessLogEnv === '1',
    logger,
    ...(xdsAddress !== undefined ? { xdsAddress } : {}),
    ...(statsdAddress !== undefined ? { statsdAddress } : {}),
    ...(bindAddress !== undefined ? { bindAddress } : {}),
    ...(nodeId !== undefined ? { nodeId } : {}),
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    standin.close().then(
      () => { logger.info('stopped'); process.exit(0); },
      (err: unknown) => { logger.error('stop_failed', { err }); process.exit(1); },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  // Ready once the pushed listener is bound (what the gateway needs); if the control plane
  // has none yet, say ready anyway after a while: the listener appears when it is pushed.
  let listenerBound = true;
  try {
    await standin.waitForListener(readyWaitMs);
  } catch {
    listenerBound = false;
  }
  if (stopping) return;
  logger.info('ready', {
    nodeId: standin.bootstrap.nodeId,
    xds: `${standin.bootstrap.xds.host}:${standin.bootstrap.xds.port}`,
    protocol: standin.bootstrap.protocol,
    listenerPorts: standin.listenerPorts(),
    listenerBound,
  });
}

main().catch((err: unknown) => {
  logger.error('start_failed', { err });
  process.exit(1);
});
