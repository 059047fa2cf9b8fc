/** Test helpers: plain HTTP "function" servers, the control API, a statsd receiver, temp bootstraps. */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { CLIENT_ERRORS, type ClientErrorCode, ClientErrorBodySchema, type FunctionRouteSpec, authorizationHeader } from '@faas/contracts';
import { freePort } from '@faas/stack';
import { type XdsServerHandle, startXdsServer } from '@faas/xds-server';
import { type EnvoyStandin, startEnvoyStandin } from '../src/index';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const BOOTSTRAP = path.join(REPO_ROOT, 'envoy', 'envoy.yaml');

/** A quiet logger for tests (set STANDIN_TEST_LOGS=1 to see the standin's logs). */
export const quietLogger = (() => {
  const show = process.env.STANDIN_TEST_LOGS === '1';
  const mk = (): import('@faas/contracts').Logger => ({
    debug: () => undefined,
    info: (e, f) => { if (show) console.log('info', e, f ?? ''); },
    warn: (e, f) => { if (show) console.log('warn', e, f ?? ''); },
    error: (e, f) => { if (show) console.log('error', e, f ?? ''); },
    child: () => mk(),
  });
  return mk();
})();

export interface Upstream {
  id: string;
  port: number;
  hits: number;
  /** Requests in flight now, and the most ever at once. */
  active: number;
  maxActive: number;
  paths: string[];
  requestIds: string[];
  close(): Promise<void>;
}

/**
 * A function stand-in: /echo returns the body, /sleep?ms=N answers after N ms, /crash reads
 * the request and drops the connection, anything else 200 with its id. Every response carries x-upstream: <id>.
 */
export async function startUpstream(id: string): Promise<Upstream> {
  const u: Upstream = { id, port: 0, hits: 0, active: 0, maxActive: 0, paths: [], requestIds: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    u.hits++;
    u.active++;
    u.maxActive = Math.max(u.maxActive, u.active);
    res.once('close', () => { u.active--; });
    u.paths.push(req.url ?? '');
    u.requestIds.push(String(req.headers['x-request-id'] ?? ''));
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/echo') {
      res.writeHead(200, { 'x-upstream': id, 'content-type': 'application/octet-stream' });
      req.pipe(res);
      return;
    }
    if (url.pathname === '/crash') {
      // The function process dies mid-request: the whole request was received, no answer.
      req.resume();
      req.once('end', () => req.socket.destroy());
      return;
    }
    req.resume();
    if (url.pathname === '/sleep') {
      const t = setTimeout(() => { res.writeHead(200, { 'x-upstream': id }); res.end('slept'); }, Number(url.searchParams.get('ms') ?? '100'));
      res.on('close', () => clearTimeout(t));
      return;
    }
    if (url.pathname === '/status') {
      res.writeHead(Number(url.searchParams.get('code') ?? '200'), { 'x-upstream': id });
      res.end('status');
      return;
    }
    res.writeHead(200, { 'x-upstream': id });
    res.end(`hello from ${id}`);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  u.port = (server.address() as { port: number }).port;
  u.close = () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
  return u;
}

/** Internal API token of the xds-servers these tests start (the control API refuses calls without one). */
export const TEST_TOKEN = 'standin-test-token-0123456789abcdef0123';

export interface HttpResult { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

const agent = new http.Agent({ keepAlive: true });

export function request(port: number, pathname: string, opts: { method?: string; body?: Buffer; headers?: Record<string, string> } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method: opts.method ?? 'GET', headers: opts.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** PUT /v1/functions/:name on the xds-server control API; resolves with status and JSON body. */
export async function putFunction(httpPort: number, spec: FunctionRouteSpec, waitMs = 5000): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = Buffer.from(JSON.stringify(spec));
  const r = await request(httpPort, `/v1/functions/${spec.name}?wait_ms=${waitMs}`, { method: 'PUT', body, headers: { 'content-type': 'application/json', ...authorizationHeader(TEST_TOKEN) } });
  return { status: r.status, body: JSON.parse(r.body.toString('utf8')) as Record<string, unknown> };
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface StatsdReceiver { port: number; lines: string[]; datagrams: string[]; close(): Promise<void> }

export async function startStatsdReceiver(): Promise<StatsdReceiver> {
  const sock = dgram.createSocket('udp4');
  const r: StatsdReceiver = { port: 0, lines: [], datagrams: [], close: () => new Promise<void>((resolve) => sock.close(() => resolve())) };
  sock.on('message', (m) => {
    const s = m.toString('utf8');
    r.datagrams.push(s);
    for (const l of s.split('\n')) if (l !== '') r.lines.push(l);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  r.port = sock.address().port;
  return r;
}

/** A copy of envoy/envoy.yaml with edits, in a temp dir. */
export function tempBootstrap(edit: (text: string) => string): { file: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'standin-'));
  const file = path.join(dir, 'envoy.yaml');
  fs.writeFileSync(file, edit(fs.readFileSync(BOOTSTRAP, 'utf8')));
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

let seq = 0;
export function uniqueNodeId(): string {
  return `standin-test-${process.pid}-${++seq}`;
}

/** A router local reply: JSON per client-errors.ts with the code's status and the request id. */
export function assertJsonError(r: HttpResult, code: ClientErrorCode): void {
  assert.equal(r.headers['content-type'], 'application/json', `${code}: ${r.body.toString()}`);
  const body = ClientErrorBodySchema.parse(JSON.parse(r.body.toString('utf8')));
  assert.equal(body.error, code);
  assert.equal(r.status, CLIENT_ERRORS[code].status);
  assert.ok(body.requestId !== undefined && body.requestId !== '', 'requestId set');
}

/** Writes raw bytes to 127.0.0.1:port and resolves with everything read until the peer closes. */
export function rawRequest(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(port, '127.0.0.1', () => sock.write(raw));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    sock.on('error', reject);
  });
}

export interface RouterUnderTest { xds: XdsServerHandle; standin: EnvoyStandin; routerPort: number; close(): Promise<void> }

/** The real xds-server and a stand-in subscribed to it, its listener bound on 127.0.0.1; statsd to the discard port. */
export async function startRouter(): Promise<RouterUnderTest> {
  const routerPort = await freePort();
  const xds = await startXdsServer({ host: '127.0.0.1', grpcPort: 0, httpPort: 0, routerAddress: '127.0.0.1', routerPort, logger: quietLogger, internalToken: TEST_TOKEN });
  const standin = await startEnvoyStandin({ bootstrapPath: BOOTSTRAP, xdsAddress: `127.0.0.1:${xds.grpcPort}`, bindAddress: '127.0.0.1', nodeId: uniqueNodeId(), logger: quietLogger, statsdAddress: '127.0.0.1:9' });
  await standin.waitForListener(10_000);
  return { xds, standin, routerPort, close: async () => { await standin.close(); await xds.close(); } };
}
