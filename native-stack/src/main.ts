/**
 * `npm run stack`: the whole native stack in the foreground on the default ports.
 * Ctrl-C / SIGTERM stops everything and removes every function container it started.
 */
import * as path from 'node:path';
import { NATIVE_PORTS, type Stack, startStack } from './launcher';

const COLORS: Record<string, string> = {
  'xds-server': '35', 'statsd-listener': '36', 'envoy-standin': '34', 'redis-rest': '33', orchestrator: '32', gateway: '37', stack: '31',
};

function sink(component: string, line: string): void {
  const tty = process.stdout.isTTY;
  const label = component.padEnd(15);
  process.stdout.write(tty ? `\x1b[${COLORS[component] ?? '0'}m${label}\x1b[0m ${line}\n` : `${label} ${line}\n`);
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '../../..');
  let stack: Stack | undefined;
  let stopping = false;
  let failedComponent: string | undefined;
  const stop = (reason: string, exitCode: number) => {
    if (stopping || !stack) return;
    stopping = true;
    sink('stack', JSON.stringify({ event: 'stopping', reason }));
    stack.stop().then(() => process.exit(exitCode), (err: unknown) => {
      sink('stack', JSON.stringify({ event: 'stop_failed', error: String(err) }));
      process.exit(1);
    });
  };
  stack = await startStack({
    root, stack: process.env.FAAS_STACK || 'default', ports: NATIVE_PORTS, sink,
    // A half-working stack is worse than none: one component gone stops all, non-zero exit.
    onComponentExit: (e) => {
      if (!stack) failedComponent = e.component;
      stop(`${e.component} exited (code ${e.code}, signal ${e.signal})`, 1);
    },
  });
  if (failedComponent !== undefined) {
    // Exited between its start and the end of start-up.
    stop(`${failedComponent} exited during start-up`, 1);
    return;
  }
  sink('stack', JSON.stringify({ event: 'ready', message: `curl 127.0.0.1:${stack.ports.gateway}/hello`, ports: stack.ports }));
  process.on('SIGINT', () => stop('SIGINT', 0));
  process.on('SIGTERM', () => stop('SIGTERM', 0));
}

main().catch((err: unknown) => {
  sink('stack', JSON.stringify({ event: 'start_failed', error: err instanceof Error ? err.message : String(err) }));
  process.exit(1);
});
