/** Orchestrator process: `node orchestrator/dist/src/main.js` (env: see config.ts). */
import { DefinitionError, FaasError, createLogger, loadDefinitionFile, loadInternalToken, runId } from '@faas/contracts';
import { decideScale } from './autoscaler/decide';
import * as fs from 'node:fs';
import { loadConfig } from './config';
import { startOrchestrator } from './orchestrator';

const log = createLogger('orchestrator');

/** Start-up failures an operator fixes by hand: one readable line, no stack trace. */
const OPERATOR_ERRORS = new Set(['invalid_env', 'docker_unreachable']);

async function main(): Promise<void> {
  const config = loadConfig();
  // The definition file first: its problems are the ones a user most often has to fix.
  const definitions = loadDefinitionFile(config.definitionsFile);
  const internalToken = loadInternalToken();
  const handle = await startOrchestrator({
    ...config, logger: log, statsdAddress: process.env.FAAS_STATSD_ADDRESS || undefined,
    definitions, internalToken, decideScale, runId: runId(),
  });
  // Health for compose and supervisors: the file exists only between "ready" and shutdown.
  const readyFile = process.env.FAAS_READY_FILE || undefined;
  if (readyFile) fs.writeFileSync(readyFile, `${process.pid}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('signal', { signal });
    if (readyFile) fs.rmSync(readyFile, { force: true });
    handle.close().then(() => process.exit(0), (err) => {
      log.error('shutdown_failed', { error: err });
      process.exit(1);
    });
  };
  // Re-read the definition file and apply it while serving (an invalid file changes nothing).
  process.on('SIGHUP', () => {
    let next;
    try {
      next = loadDefinitionFile(config.definitionsFile);
    } catch (err) {
      log.error('definitions_rejected', { file: config.definitionsFile, error: err });
      return;
    }
    log.info('definitions_reload', { file: config.definitionsFile, functions: next.map((d) => d.name) });
    void handle.apply(next).then(() => log.info('definitions_applied', { file: config.definitionsFile }));
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
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
