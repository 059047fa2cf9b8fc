/**
 * The orchestrator's end of the demand alerts (contracts/src/demand-alert.ts): its own Redis
 * subscriber on RedisKeys.demandChannel, every message validated before it reaches the tick loop.
 */
import { Redis } from 'ioredis';
import { type DemandAlert, type Logger, parseDemandAlert } from '@faas/contracts';
import { listenRedisErrors } from './redis-errors';

/** At most one log line about invalid alerts per this many ms (a broken sender must not flood it). */
const INVALID_LOG_INTERVAL_MS = 10_000;

export interface DemandAlertSubscription {
  close(): Promise<void>;
}

export async function subscribeDemandAlerts(redisUrl: string, channel: string, onAlert: (a: DemandAlert) => void, log: Logger): Promise<DemandAlertSubscription> {
  const sub = new Redis(redisUrl);
  listenRedisErrors(sub, 'demand alerts', log);
  let lastInvalidLog = 0;
  let invalid = 0;
  sub.on('message', (ch: string, raw: string) => {
    if (ch !== channel) return;
    const alert = parseDemandAlert(raw);
    if (alert) {
      onAlert(alert);
      return;
    }
    invalid++;
    const now = Date.now();
    if (now - lastInvalidLog < INVALID_LOG_INTERVAL_MS) return;
    log.warn('demand_alert_invalid', { raw: raw.slice(0, 200), invalid });
    lastInvalidLog = now;
    invalid = 0;
  });
  try {
    await sub.subscribe(channel);
  } catch (err) {
    sub.disconnect();
    throw err;
  }
  return {
    close: async () => {
      // Already gone (Redis down at shutdown): nothing left to release but the socket.
      await sub.quit().catch(() => sub.disconnect());
    },
  };
}
