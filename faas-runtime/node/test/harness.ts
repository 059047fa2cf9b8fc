/** Test helpers: spawn the runtime as a real child process and talk HTTP to it. */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '@faas/stack';

export const SERVER_JS = path.resolve(__dirname, '..', 'src', 'server.js');
export const FUNCTIONS_DIR = path.resolve(__dirname, '..', '..', '..', '..', 'functions');

export interface Runtime {
  port: number;
  proc: ChildProcess;
  logs: () => Record<string, unknown>[];
  exited: Promise<number | null>;
  kill(): void;
}

export async function spawnRuntime(env: Record<string, string>): Promise<Runtime> {
  const port = await freePort();
  const proc = spawn(process.execPath, [SERVER_JS], {
    env: { PATH: process.env.PATH ?? '', FAAS_HOST: '127.0.0.1', FAAS_PORT: String(port), FAAS_FUNCTION: 'test-fn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const logs = (): Record<string, unknown>[] =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    port,
    proc,
    logs,
    exited,
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function request(port: number, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export async function waitReady(rt: Runtime, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await request(rt.port, { path: '/_faas/ready' });
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    if (rt.proc.exitCode !== null) throw new Error(`runtime exited with ${rt.proc.exitCode}: ${JSON.stringify(rt.logs())}`);
    if (Date.now() > deadline) throw new Error(`runtime not ready after ${timeoutMs}ms: ${JSON.stringify(rt.logs())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A temp function dir with test handlers; removed by the returned cleanup. */
export function makeTestFunctions(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-rt-test-'));
  fs.writeFileSync(
    path.join(dir, 'slow.js'),
    `exports.handler = async (event) => {
  const ms = Number(event.query.ms || 300);
  await new Promise((r) => setTimeout(r, ms));
  return { statusCode: 200, body: 'slept ' + ms };
};\n`,
  );
  fs.writeFileSync(path.join(dir, 'boom.js'), `exports.handler = async () => { throw new Error('boom from handler'); };\n`);
  fs.writeFileSync(path.join(dir, 'json.js'), `exports.handler = async (event, context) => ({ method: event.method, path: event.path, rawQuery: event.rawQuery, query: event.query, fn: context.functionName, version: context.functionVersion, remaining: context.getRemainingTimeInMillis(), requestId: context.requestId });\n`);
  fs.writeFileSync(path.join(dir, 'callback.js'), `exports.handler = (event, context, cb) => { setTimeout(() => cb(null, 'cb ok'), 5); };\n`);
  fs.writeFileSync(path.join(dir, 'notfn.js'), `exports.handler = 42;\n`);
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
