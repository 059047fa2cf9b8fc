/**
 * `npm run stack`: the whole native stack in the foreground on the default ports, supervised:
 * a component that exits is restarted (never the whole stack). Ctrl-C / SIGTERM stops everything
 * and removes every function container it started; exit status 0 only for a stop on request.
 *
 * Env: FAAS_STACK (stack id), FAAS_RUN_ID (else generated), FAAS_DEFINITIONS, FAAS_STATE_DIR
 * (lock and token files, default <repo>/.stack), FAAS_NATIVE_PORTS=free (free ports; tests).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runId as envRunId } from '@faas/contracts';
import { NATIVE_PORTS, type Stack, freeStackPorts, newInternalToken, newRunId, startStack } from './launcher';
import { acquireStackLock, refusalLine } from './lock';

const COLORS: Record<string, string> = {
  'xds-server': '35', 'statsd-listener': '36', 'envoy-standin': '34', 'redis-rest': '33', orchestrator: '32', gateway: '37', stack: '31',
};

function sink(component: string, line: string): void {
  const tty = process.stdout.isTTY;
  const label = component.padEnd(15);
  process.stdout.write(tty ? `\x1b[${COLORS[component] ?? '0'}m${label}\x1b[0m ${line}\n` : `${label} ${line}\n`);
}
const log = (event: Record<string, unknown>) => sink('stack', JSON.stringify(event));

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '../../..');
  const stateDir = process.env.FAAS_STATE_DIR || path.join(root, '.stack');
  const stackName = process.env.FAAS_STACK || 'default';
  const runId = envRunId() || newRunId();
  const ports = process.env.FAAS_NATIVE_PORTS === 'free' ? await freeStackPorts() : NATIVE_PORTS;
  fs.mkdirSync(stateDir, { recursive: true });

  // Before anything is started or swept: a running stack is left entirely alone.
  const lock = acquireStackLock(path.join(stateDir, 'stack.json'), { pid: process.pid, runId, stack: stackName, ports, startedAt: new Date().toISOString() });
  if (!lock.acquired) {
    log({ event: 'start_refused', level: 'error', message: refusalLine(lock.holder) });
    process.exit(1);
  }
  const tokenFile = path.join(stateDir, 'internal-token');
  const internalToken = newInternalToken();
  fs.rmSync(tokenFile, { force: true });
  fs.writeFileSync(tokenFile, `${internalToken}\n`, { mode: 0o600, flag: 'wx' });
  const release = () => {
    fs.rmSync(tokenFile, { force: true });
    lock.release();
  };
  process.once('exit', release); // last resort; the normal paths release before exiting

  let stack: Stack | undefined;
  let stopRequested: string | undefined;
  let stopping = false;
  const stop = (reason: string) => {
    if (stopping || !stack) return;
    stopping = true;
    log({ event: 'stopping', reason });
    stack.stop().then(() => { release(); process.exit(0); }, (err: unknown) => {
      log({ event: 'stop_failed', level: 'error', error: String(err) });
      release();
      process.exit(1);
    });
  };
  // Installed before start-up: a Ctrl-C while starting stops the stack once it is up.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      stopRequested = sig;
      stop(sig);
    });
  }
  try {
    stack = await startStack({
      root, stack: stackName, runId, internalToken, ports, sink, callSocketDir: path.join(stateDir, 'call'),
      ...(process.env.FAAS_DEFINITIONS ? { definitionsFile: process.env.FAAS_DEFINITIONS } : {}),
    });
  } catch (err) {
    log({ event: 'start_failed', level: 'error', error: err instanceof Error ? err.message : String(err) });
    release();
    process.exit(1);
  }
  if (stopRequested) return stop(`${stopRequested} during start-up`);
  log({ event: 'ready', message: `curl 127.0.0.1:${stack.ports.gateway}/hello (status: curl 127.0.0.1:${stack.ports.status}/v1/status)`, ports: stack.ports, runId, pid: process.pid, tokenFile, callSocket: stack.callSocket });
}

main().catch((err: unknown) => {
  log({ event: 'start_failed', level: 'error', error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
