/** A failed start (port in use, no internal token) is a typed error or one log line and leaves nothing open. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import Redis from 'ioredis';
import { startRedis, type RedisProcess } from '@faas/stack';
import { ListenError, startXdsServer } from '../src/index';
import { TEST_TOKEN, quietLogger } from './test-server';

function occupy(): Promise<{ port: number; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((s) => s.destroy());
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address() as net.AddressInfo;
      resolve({ port: a.port, close: () => new Promise<void>((r) => srv.close(() => r())) });
    });
  });
}

/** Whether a port on 127.0.0.1 can be bound (nothing of ours still holds it). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function clientCount(admin: Redis): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  return list.split('\n').filter((l) => l.trim() !== '').length;
}

async function eventuallyEqual(f: () => Promise<number>, want: number, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  let got = await f();
  while (got !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    got = await f();
  }
  assert.equal(got, want, what);
}

/** A Redis, an admin connection counting its clients, and a port held by someone else; all closed after `t`. */
async function portInUse(t: TestContext): Promise<{ redis: RedisProcess; admin: Redis; busy: { port: number } }> {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const admin = new Redis(redis.url);
  t.after(() => admin.quit());
  const busy = await occupy();
  t.after(() => busy.close());
  return { redis, admin, busy };
}

test('ADS port in use: ListenError naming the port; the Redis store is closed', async (t) => {
  const { redis, admin, busy } = await portInUse(t);
  const before = await clientCount(admin);

  const err = await startXdsServer({ grpcPort: busy.port, redisUrl: redis.url, stack: `sf-${process.pid}`, logger: quietLogger, internalToken: TEST_TOKEN }).then(
    () => assert.fail('start should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ListenError, String(err));
  assert.equal(err.server, 'grpc');
  assert.equal(err.port, busy.port);
  assert.equal(err.code, 'listen_failed');
  assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${busy.port}`));
  await eventuallyEqual(() => clientCount(admin), before, 'the store\'s Redis connection was closed');
});

test('HTTP port in use: ListenError naming the port; the ADS server and Redis store are closed', async (t) => {
  const { redis, admin, busy } = await portInUse(t);
  const grpc = await occupy();
  const grpcPort = grpc.port;
  await grpc.close();
  const before = await clientCount(admin);

  const err = await startXdsServer({ grpcPort, httpPort: busy.port, redisUrl: redis.url, stack: `sf2-${process.pid}`, logger: quietLogger, internalToken: TEST_TOKEN }).then(
    () => assert.fail('start should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ListenError, String(err));
  assert.equal(err.server, 'http');
  assert.equal(err.port, busy.port);
  assert.match(err.message, new RegExp(`:${busy.port}`));
  assert.ok(await bindable(grpcPort), 'the ADS port was released');
  await eventuallyEqual(() => clientCount(admin), before, 'the store\'s Redis connection was closed');
});

test('main refuses to start without the internal token: one log line, exit 1', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, XDS_GRPC_PORT: '0', XDS_HTTP_PORT: '0' };
  delete env.FAAS_INTERNAL_TOKEN;
  delete env.FAAS_INTERNAL_TOKEN_FILE;
  const child = spawn(process.execPath, [path.join(__dirname, '../src/main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 1);
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 1, out);
  const line = JSON.parse(lines[0]!) as { msg?: string; event?: string; message: string };
  assert.match(line.message, /FAAS_INTERNAL_TOKEN/);
});
