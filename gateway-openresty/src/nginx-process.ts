/** Runs nginx in the foreground as a child process and stops it gracefully. */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as readline from 'node:readline';
import { GatewayError } from './errors';

export type LogSink = (line: string, stream: 'stdout' | 'stderr') => void;

export interface NginxChild {
  child: ChildProcess;
  exited: Promise<void>;
  /** SIGQUIT (graceful), then SIGTERM, then SIGKILL. */
  stop(): Promise<void>;
}

/** env: the whole environment of nginx (it carries the internal token to the workers, see nginx.conf's `env`). */
export function spawnNginx(bin: string, prefix: string, conf: string, sink: LogSink, env: NodeJS.ProcessEnv): NginxChild {
  const child = spawn(bin, ['-p', prefix, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (err) => sink(`spawn ${bin} failed: ${err.message}`, 'stderr'));
  readline.createInterface({ input: child.stdout! }).on('line', (l) => sink(l, 'stdout'));
  readline.createInterface({ input: child.stderr! }).on('line', (l) => sink(l, 'stderr'));
  const running = () => child.exitCode === null && child.signalCode === null;
  const waitExit = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  return {
    child,
    exited,
    async stop() {
      if (!running()) return;
      child.kill('SIGQUIT');
      if (await waitExit(5000)) return;
      child.kill('SIGTERM');
      if (await waitExit(2000)) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function probe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/healthz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
  });
}

/** Resolve once /healthz answers 200; reject if nginx exits first or the timeout passes. */
export async function waitHealthy(n: NginxChild, host: string, port: number, timeoutMs: number, stderrTail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  n.exited.then(() => { exited = true; }, () => undefined);
  for (;;) {
    if (exited) throw new GatewayError('nginx_failed', `nginx exited during start (code ${n.child.exitCode}): ${stderrTail()}`, { port });
    if (await probe(host, port)) return;
    if (Date.now() > deadline) throw new GatewayError('nginx_failed', `nginx did not answer on ${host}:${port} within ${timeoutMs} ms: ${stderrTail()}`, { port });
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface FileTail {
  /** Read what is left, then stop. */
  stop(): Promise<void>;
}

/**
 * Follows a log file nginx writes, line by line. Why not /dev/stdout: Node gives children socket
 * pairs, not pipes, and nginx cannot open() /dev/stdout on a socket (ENXIO).
 */
export function tailFile(file: string, onLine: (line: string) => void, intervalMs = 100): FileTail {
  let offset = 0;
  let rest = '';
  let busy: Promise<void> = Promise.resolve();
  const readNew = async () => {
    let fh: fs.promises.FileHandle | undefined;
    try {
      fh = await fs.promises.open(file, 'r');
      const { size } = await fh.stat();
      if (size < offset) offset = 0; // truncated or replaced
      while (offset < size) {
        const buf = Buffer.alloc(Math.min(size - offset, 1 << 20));
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        rest += buf.subarray(0, bytesRead).toString('utf8');
        const lines = rest.split('\n');
        rest = lines.pop() ?? '';
        for (const l of lines) if (l !== '') onLine(l);
      }
    } catch {
      // Not created yet, or removed at shutdown: try again next tick.
    } finally {
      await fh?.close().catch(() => undefined);
    }
  };
  const timer = setInterval(() => { busy = busy.then(readNew); }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      busy = busy.then(readNew);
      await busy;
    },
  };
}
