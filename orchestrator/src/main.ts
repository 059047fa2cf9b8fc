/** Orchestrator process: `node orchestrator/dist/src/main.js` (env: see config.ts). */
import { DefinitionError, createLogger } from '@faas/contracts';
import { loadConfig } from './config';
import { startOrchestrator } from './orchestrator';

const log = createLogger('orchestrator');

async function main(): Promise<void> {
  const config = loadConfig();
  const handle = await startOrchestrator({ ...config, logger: log, statsdAddress: process.env.FAAS_STATSD_ADDRESS || undefined });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('signal', { signal });
    handle.close().then(() => process.exit(0), (err) => {
      log.error('shutdown_failed', { error: err });
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof DefinitionError) {
    log.error('invalid_definitions', { issues: err.issues, message: err.message });
    process.stderr.write(`${err.message}\n`);
  } else {
    log.error('start_failed', { error: err });
  }
  process.exit(1);
});
