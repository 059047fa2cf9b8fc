/** ioredis emits 'error' on every failed reconnect; without a listener Node prints raw lines. */
import type { Redis } from 'ioredis';
import type { Logger } from '@faas/contracts';

/** One structured line per outage (not one per retry), and one when the connection is back. */
export function listenRedisErrors(client: Redis, role: string, log: Logger): void {
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.warn('redis_error', { role, error: err.message });
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log.info('redis_connection_restored', { role });
  });
}
