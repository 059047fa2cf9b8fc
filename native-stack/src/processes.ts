/** Child processes of a stack: started, watched for their "ready" log line, stopped in order. */
import { type ChildProcess, spawn } from 'node:child_process';
import * as readline from 'node:readline';
import type { ExitStatus, Running } from './supervisor';

export interface ManagedProcess extends Running {
  name: string;
  child: ChildProcess;
  stop(timeoutMs?: number): Promise<void>;
}

export type LineSink = (component: string, line: string) => void;

/**
 * Spawn `node <script>` and resolve once it logs {"event":"ready"}; reject if it exits first
 * or stays silent past timeoutMs.
 */
export function startNodeProcess(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  sink: LineSink,
  timeoutMs = 60_000,
): Promise<ManagedProcess> {
  // Own process group: a terminal's Ctrl-C reaches only the launcher, which then stops the
  // components in order (orchestrator drains while routers and Redis still run).
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const proc: ManagedProcess = {
    name,
    child,
    pid: child.pid,
    exited,
    kill: (signal) => child.kill(signal),
    async stop(stopTimeoutMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not log ready within ${timeoutMs}ms`));
    }, timeoutMs);
    const onLine = (line: string) => {
      sink(name, line);
      if (!ready && line.includes('"event":"ready"')) {
        ready = true;
        clearTimeout(timer);
        resolve(proc);
      }
    };
    readline.createInterface({ input: child.stdout! }).on('line', onLine);
    readline.createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code, signal) => {
      if (!ready) {
        clearTimeout(timer);
        reject(new Error(`${name} exited before it was ready (code ${code}, signal ${signal})`));
      }
    });
  });
}
