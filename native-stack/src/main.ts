/**
 * `npm run stack`: the whole native stack in the foreground on the default ports.
 * Ctrl-C / SIGTERM stops everything and removes every function container it started.
 */
import * as path from 'node:path';
import { NATIVE_PORTS, startStack } from './launcher';

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
  const stack = await startStack({ root, stack: process.env.FAAS_STACK || 'default', ports: NATIVE_PORTS, sink });
  sink('stack', JSON.stringify({ event: 'ready', message: `curl 127.0.0.1:${stack.ports.gateway}/hello`, ports: stack.ports }));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    sink('stack', JSON.stringify({ event: 'stopping', signal }));
    stack.stop().then(() => process.exit(0), (err: unknown) => {
      sink('stack', JSON.stringify({ event: 'stop_failed', error: String(err) }));
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  sink('stack', JSON.stringify({ event: 'start_failed', error: err instanceof Error ? err.message : String(err) }));
  process.exit(1);
});
