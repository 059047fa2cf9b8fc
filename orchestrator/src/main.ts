/** Orchestrator process: `node orchestrator/dist/src/main.js` (env: see config.ts). */
import { DefinitionError, FaasError, createLogger, loadDefinitionFile, loadInternalToken, runId } from '@faas/contracts';
import { decideScale } from './autoscaler/decide';
import * as fs from 'node:fs';
import { loadConfig } from './config';
import { LiveDefinitions } from './live-definitions';
import { startOrchestrator } from './orchestrator';

const log = createLogger('orchestrator');

/** Start-up failures an operator fixes by hand: one readable line, no stack trace. */
const OPERATOR_ERRORS = new Set(['invalid_env', 'docker_unreachable']);

async function main(): Promise<void> {
  const config = loadConfig();
  // The definition file first: its problems are the ones a user most often has to fix.
  const definitions = loadDefinitionFile(config.definitionsFile);
  const internalToken = loadInternalToken();
  // The status endpoint first: a long first build can be watched on it.
  const live = await LiveDefinitions.listen({
    file: config.definitionsFile, initial: definitions, statusHost: config.statusHost, statusPort: config.statusPort,
    watchDebounceMs: config.watchDebounceMs, watchPollMs: config.watchPollMs, internalToken, log,
  });
  // Registered at once: SIGHUP's default would end the process. Before attach it is only logged.
  process.on('SIGHUP', () => void live.reload({ reason: 'SIGHUP', force: true }));
  const started = startOrchestrator({
    ...config, logger: log, statsdAddress: process.env.FAAS_STATSD_ADDRESS || undefined,
    definitions, internalToken, decideScale, runId: runId(),
  }).catch(async (err: unknown) => {
    await live.close();
    throw err;
  });
  // SIGTERM and SIGINT are taken before "ready" is logged: a supervisor may stop us as soon as
  // it reads that line, while the watcher below is still scanning; Node's default action would
  // exit without closing, leaving containers and secret directories for the next start to adopt.
  const readyFile = process.env.FAAS_READY_FILE || undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('signal', { signal });
    if (readyFile) fs.rmSync(readyFile, { force: true });
    const quiet = (err: unknown) => log.warn('shutdown_step_failed', { what: 'definition watch and status', error: err });
    // A signal during start-up shuts down once started: what start-up created is removed too.
    started.then(
      (handle) => live.close().catch(quiet).then(() => handle.close()).then(() => process.exit(0), (err: unknown) => {
        log.error('shutdown_failed', { error: err });
        process.exit(1);
      }),
      () => undefined, // Start-up failed: main()'s caller logs why and exits 1.
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const handle = await started;
  // From here on the file is the live source of truth (watched; SIGHUP reloads at once).
  await live.attach(handle);
  // Health for compose and supervisors: the file exists only between "ready" and shutdown.
  if (readyFile && !stopping) fs.writeFileSync(readyFile, `${process.pid}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof DefinitionError) {
    log.error('invalid_definitions', { issues: err.issues, message: err.message });
    process.stderr.write(`${err.message}\n`);
  } else if (err instanceof FaasError && OPERATOR_ERRORS.has(err.code)) {
    log.error('start_refused', { code: err.code, message: err.message });
    process.stderr.write(`orchestrator: ${err.message}\n`);
  } else {
    log.error('start_failed', { error: err });
  }
  process.exit(1);
});
