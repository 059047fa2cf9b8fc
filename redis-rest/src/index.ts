/** redis-rest: the small HTTP API over Redis that the gateway's Lua calls (contracts/gateway-api.ts). */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { type Logger, createLogger, instanceFailureKeys, redisKeys } from '@faas/contracts';
import { createApp } from './app';
import { FailureHub } from './failure-hub';
import { parseFailureRecord, parseStateChange } from './parse';
import { RevHub } from './rev-hub';
import { StateStore } from './store';
import { WakeHub } from './wake-hub';

export { ApiError } from './errors';
export { parseIntParam } from './params';
export { parseStateChange, parseStateRecord } from './parse';
export { WakeHub } from './wake-hub';
export { RevHub } from './rev-hub';
export { FailureHub, explainFailure } from './failure-hub';

export interface RedisRestOptions {
  /** Bind address; loopback unless told otherwise. */
  host?: string;
  /** 0 = any free port. */
  port?: number;
  redisUrl: string;
  stack?: string;
  logger?: Logger;
  /** Interval of wake re-publication while requests wait (default 1000 ms). */
  wakeRepublishMs?: number;
  /** Shared secret every /v1 call must carry (contracts/internal-auth.ts); main.ts loads it with loadInternalToken(). */
  internalToken: string;
}

export interface RedisRestServer {
  port: number;
  close(): Promise<void>;
}

/** How long start waits for Redis before serving anyway (answering 503 until Redis is there). */
const START_REDIS_WAIT_MS = 5_000;

export async function startRedisRest(opts: RedisRestOptions): Promise<RedisRestServer> {
  const logger = opts.logger ?? createLogger('redis-rest');
  const keys = redisKeys(opts.stack ?? 'default');
  const failureChannel = instanceFailureKeys(opts.stack ?? 'default').channel;
  // Commands fail at once while Redis is down (no offline queue), so callers get 503 instead of hanging.
  const redis = new Redis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  // The one subscriber of the process; ioredis re-subscribes after reconnecting.
  const sub = new Redis(opts.redisUrl, { lazyConnect: true });
  // One JSON line per outage and connection (ioredis emits an error per retry).
  const watchClient = (client: Redis, connection: 'command' | 'subscriber') => {
    let downLogged = false;
    client.on('error', (err: Error) => {
      if (!downLogged) logger.warn('redis_error', { connection, error: err.message });
      downLogged = true;
    });
    client.on('ready', () => {
      if (downLogged) logger.info('redis_reconnected', { connection });
      downLogged = false;
    });
  };
  watchClient(redis, 'command');
  watchClient(sub, 'subscriber');

  const store = new StateStore(redis, keys, opts.stack ?? 'default');
  const wakes = new WakeHub({
    // The count lets the orchestrator size a cold start for the whole held burst.
    tick: (fn, requestId, waiting) => store.publishWake({ fn, requestId, at: Date.now(), waiting }),
    intervalMs: opts.wakeRepublishMs ?? 1000,
    logger,
  });
  const revs = new RevHub();
  const failures = new FailureHub();
  sub.on('message', (channel: string, message: string) => {
    if (channel === failureChannel) {
      const rec = parseFailureRecord(message);
      if (rec) failures.onFailure(rec);
      else logger.warn('malformed_failure_message', { message: message.slice(0, 200) });
      return;
    }
    if (channel !== keys.stateChannel) return;
    const msg = parseStateChange(message);
    if (!msg) {
      logger.warn('malformed_state_message', { message: message.slice(0, 200) });
      return;
    }
    wakes.onState(msg.fn, msg.state, msg.wakeTier);
    revs.onRev(msg.rev);
  });
  let subReadyOnce = false;
  sub.on('ready', () => {
    // After a reconnect, changes published while we were away are lost: let pollers re-read.
    if (subReadyOnce) revs.releaseAll();
    subReadyOnce = true;
  });

  const connectAll = Promise.all([redis.connect(), sub.connect().then(() => sub.subscribe(keys.stateChannel, failureChannel))]);
  connectAll.catch(() => undefined); // the race below reports the outcome
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), START_REDIS_WAIT_MS).unref());
  const first = await Promise.race([connectAll.then(() => 'ok' as const, () => 'failed' as const), timeout]);
  if (first !== 'ok') {
    logger.warn('redis_unavailable_at_start', { redisUrl: opts.redisUrl, outcome: first });
    // ioredis keeps retrying only after a first connect attempt began; lazyConnect needs a nudge if it failed.
    // Failures of these nudges reach the 'error' listeners above; requests answer 503 meanwhile.
    if (sub.status === 'end' || sub.status === 'wait') sub.connect().then(() => sub.subscribe(keys.stateChannel, failureChannel)).catch(() => undefined);
    if (redis.status === 'end' || redis.status === 'wait') redis.connect().catch(() => undefined);
  }

  let closing = false;
  const app = createApp({ store, wakes, revs, failures, logger, redisUp: () => redis.status === 'ready', closing: () => closing, internalToken: opts.internalToken });
  const server = http.createServer(app);
  // Long polls last up to 120 s: no request timeout from node, the callers set their own.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    async close() {
      if (closing) return;
      closing = true;
      wakes.close();
      revs.releaseAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Answered long polls leave keep-alive sockets; do not wait for clients to drop them.
        setTimeout(() => server.closeAllConnections(), 200).unref();
      });
      redis.disconnect();
      sub.disconnect();
    },
  };
}
