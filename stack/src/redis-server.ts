/** A real redis-server process on loopback, for the native stack and tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort, waitForPort } from './ports';

export interface RedisProcess {
  port: number;
  url: string;
  pid: number | undefined;
  /** Settles when redis-server exits, whether stopped or crashed. */
  exited: Promise<{ code: number | null; signal: string | null }>;
  kill(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export async function startRedis(opts: { port?: number; bin?: string } = {}): Promise<RedisProcess> {
  const port = opts.port ?? (await freePort());
  const child: ChildProcess = spawn(opts.bin ?? 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes',
    // Own process group: Ctrl-C on a terminal must not stop Redis before the components using it.
  ], { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.once('error', () => undefined);
  await waitForPort(port, '127.0.0.1', 10_000);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    exited,
    kill: (signal) => child.kill(signal),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
