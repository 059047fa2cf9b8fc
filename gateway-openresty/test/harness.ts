/**
 * Shared set-up of the gateway tests: a real redis-server, the fake orchestrator (Redis contract
 * only), redis-rest with a per-run token and the gateway's nginx, torn down in reverse order.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ClientErrorBodySchema, type ClientErrorBody, CLIENT_ERRORS, createLogger } from '@faas/contracts';
import { type RedisRestServer, startRedisRest } from '@faas/redis-rest';
import { type FakeFunction, FakeOrchestrator } from '@faas/stack/dist/src/fake-orchestrator';
import { type RedisProcess, freePort, startRedis } from '@faas/stack';
import { type Gateway, type GatewayOptions, startGateway } from '../src/index';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Backends {
  redis: RedisProcess;
  orch: FakeOrchestrator;
  rest: RedisRestServer | undefined;
  token: string;
  stack: string;
}

export async function startBackends(fns: Record<string, FakeFunction>): Promise<Backends> {
  const redis = await startRedis();
  const stack = `gw-${randomUUID().slice(0, 8)}`;
  const orch = new FakeOrchestrator(redis.url, stack, fns);
  await orch.start();
  const token = randomBytes(24).toString('hex');
  const rest = await startRedisRest({ redisUrl: redis.url, stack, logger: createLogger('redis-rest', {}, () => undefined), internalToken: token });
  return { redis, orch, rest, token, stack };
}

export async function stopBackends(b: Partial<Backends>): Promise<void> {
  await b.rest?.close();
  await b.orch?.stop();
  await b.redis?.stop();
}

/** The gateway on a free port, with the backends' token, waiting until its state dict is primed. */
export async function startPrimedGateway(b: Backends, opts: Omit<GatewayOptions, 'internalToken' | 'redisRestPort'>): Promise<Gateway> {
  assert.ok(b.rest);
  const gw = await startGateway({ port: await freePort(), redisRestPort: b.rest.port, internalToken: b.token, ...opts });
  const url = `http://127.0.0.1:${gw.port}/healthz`;
  for (let i = 0; i < 500; i++) {
    if (((await (await fetch(url)).json()) as { primed: boolean }).primed) return gw;
    await sleep(20);
  }
  await gw.stop();
  throw new Error('the gateway never primed its state dict');
}

export interface RawResponse { status: number; headers: http.IncomingHttpHeaders; body: string }

function dechunk(raw: string): string {
  let out = '';
  for (let at = 0; ;) {
    const eol = raw.indexOf('\r\n', at);
    const size = parseInt(raw.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += raw.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** A request written byte for byte (fetch would refuse or normalize what these tests send). */
export function rawRequest(port: number, head: string, body = ''): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (c: Buffer) => (data += c.toString('latin1')));
    // nginx may close before reading a refused body: a write error after its answer is expected.
    sock.on('error', (err) => { if (!data) reject(err); });
    sock.on('close', () => {
      const [headText = '', ...rest] = data.split('\r\n\r\n');
      const [statusLine = '', ...lines] = headText.split('\r\n');
      const headers: http.IncomingHttpHeaders = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      const raw = rest.join('\r\n\r\n');
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: headers['transfer-encoding'] === 'chunked' ? dechunk(raw) : raw });
    });
    sock.write(head + body);
  });
}

/** A platform error: JSON content type, a ClientErrorBody whose code has this status, and a request id. */
export function assertClientError(status: number, contentType: string | null | undefined, body: string, code: string): ClientErrorBody {
  assert.equal(contentType, 'application/json', `content-type of ${status} ${body}`);
  const parsed = ClientErrorBodySchema.parse(JSON.parse(body));
  assert.equal(parsed.error, code, body);
  assert.equal(status, CLIENT_ERRORS[parsed.error].status, `status of ${code}`);
  assert.ok(parsed.requestId, `requestId in ${body}`);
  return parsed;
}

/** A loopback HTTP server playing the router. */
export function startHttpServer(handler: http.RequestListener): Promise<{ server: http.Server; port: number; close(): Promise<void> }> {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  })));
}
