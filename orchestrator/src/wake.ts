/** Wake messages from redis-rest (Redis pub/sub), validated before they reach a controller. */
import { type WakeMessage, isValidFunctionName } from '@faas/contracts';

/**
 * `waiting`: requests held for this function at the time of the wake, when the sender says so
 * (redis-rest coalesces wakes to one per function per second; the count sizes a cold burst).
 */
export type ParsedWake = { ok: true; wake: WakeMessage; waiting: number } | { ok: false; reason: string };

/** Validate a raw pub/sub payload. Pure. */
export function parseWake(raw: string): ParsedWake {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof v !== 'object' || v === null) return { ok: false, reason: 'not an object' };
  const o = v as Record<string, unknown>;
  if (typeof o.fn !== 'string' || !isValidFunctionName(o.fn)) return { ok: false, reason: 'field fn is missing or not a valid function name' };
  const requestId = typeof o.requestId === 'string' && o.requestId.length <= 200 ? o.requestId : 'none';
  const at = typeof o.at === 'number' && Number.isFinite(o.at) ? o.at : Date.now();
  const waiting = typeof o.waiting === 'number' && Number.isInteger(o.waiting) && o.waiting > 0 ? Math.min(o.waiting, 100_000) : 1;
  return { ok: true, wake: { fn: o.fn, requestId, at }, waiting };
}
