/**
 * Starting a runtime under test as a local process (command + env, port on 127.0.0.1) and
 * talking HTTP to it: through node:http, or over a raw socket where the exact bytes matter
 * (100 Continue, malformed requests, a declared length with no body).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { freePort } from '@faas/stack';

/** How to start one runtime; the suite adds the FAAS_* variables of each case. */
export interface RuntimeUnderTest {
  /** Name in test titles, e.g. "node". */
  name: string;
  command: string;
  args: string[];
  /** Directory holding this runtime's fixture handlers (echo, slow, boom, probe, lambda, caller). */
  fixturesDir: string;
}

export const FIXTURES_ROOT = path.resolve(__dirname, '..', '..', 'fixtures');

export interface RunningRuntime {
  port: number;
  proc: ChildProcess;
  logs: () => Record<string, unknown>[];
  exited: Promise<number | null>;
  kill(): void;
}

export async function spawnRuntime(rt: RuntimeUnderTest, env: Record<string, string>): Promise<RunningRuntime> {
  const port = await freePort();
  const proc = spawn(rt.command, rt.args, {
    env: { PATH: process.env.PATH ?? '', FAAS_HOST: '127.0.0.1', FAAS_PORT: String(port), FAAS_FUNCTION: 'conf-fn', FAAS_CODE_DIR: rt.fixturesDir, ...env },
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

export function request(port: number, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: Buffer | string; chunks?: Buffer[] } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    // A body refused early may see the connection close while it is still being written.
    req.on('error', reject);
    if (opts.chunks) {
      for (const c of opts.chunks) req.write(c);
      req.end();
    } else req.end(opts.body);
  });
}

/** Polls `probe` until it returns true; fails after `timeoutMs` (a bound, not a measurement). */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not answering yet: keep polling
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function waitReady(rt: RunningRuntime): Promise<void> {
  await waitFor(`readiness (logs: ${JSON.stringify(rt.logs())})`, async () => {
    if (rt.proc.exitCode !== null) throw new Error(`runtime exited with ${rt.proc.exitCode}: ${JSON.stringify(rt.logs())}`);
    return (await request(rt.port, { path: '/_faas/ready' })).status === 200;
  });
}

/**
 * A raw HTTP/1.1 exchange: writes `head`, then (if given) waits for `waitFor` in the answer
 * before writing `body`; resolves with everything read when the server closes or the final
 * response is complete (content-length known).
 */
export function rawExchange(port: number, head: string, opts: { body?: Buffer; bodyAfter?: RegExp } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let data = Buffer.alloc(0);
    let bodySent = opts.body === undefined || opts.bodyAfter === undefined;
    const finalComplete = (): boolean => {
      const text = data.toString('latin1');
      const heads = [...text.matchAll(/HTTP\/1\.1 (\d{3})[^\r]*\r\n((?:[^\r\n]+\r\n)*)\r\n/g)];
      const last = heads.find((m) => m[1] !== '100');
      if (!last || last.index === undefined) return false;
      const len = /content-length:\s*(\d+)/i.exec(last[2] ?? '');
      return len !== null && text.length >= last.index + last[0].length + Number(len[1]);
    };
    sock.on('connect', () => {
      sock.write(head);
      if (bodySent && opts.body) sock.write(opts.body);
    });
    sock.on('data', (c: Buffer) => {
      data = Buffer.concat([data, c]);
      if (!bodySent && opts.bodyAfter?.test(data.toString('latin1'))) {
        bodySent = true;
        sock.write(opts.body as Buffer);
      }
      if (finalComplete()) {
        sock.destroy();
        resolve(data.toString('latin1'));
      }
    });
    sock.on('close', () => resolve(data.toString('latin1')));
    sock.on('error', (err) => (data.length > 0 ? resolve(data.toString('latin1')) : reject(err)));
  });
}

/** The final (non-1xx) response of a raw exchange: status, lowercase headers, body text. */
export function finalResponse(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const re = /HTTP\/1\.1 (\d{3})[^\r]*\r\n((?:[^\r\n]+\r\n)*)\r\n/g;
  for (const m of raw.matchAll(re)) {
    if (m[1] === '100' || m.index === undefined) continue;
    const headers: Record<string, string> = {};
    for (const line of (m[2] ?? '').split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    return { status: Number(m[1]), headers, body: raw.slice(m.index + m[0].length) };
  }
  throw new Error(`no final response in ${JSON.stringify(raw.slice(0, 300))}`);
}
