/** Wake messages from redis-rest (Redis pub/sub), validated before they reach a controller. */
import { type WakeMessage, WakeMessageSchema, isValidFunctionName } from '@faas/contracts';
import { z } from 'zod';

/**
 * `waiting`: requests held for this function at the time of the wake, when the sender says so
 * (redis-rest coalesces wakes to one per function per second; the count sizes a cold burst).
 */
export type ParsedWake = { ok: true; wake: WakeMessage; waiting: number } | { ok: false; reason: string };

const MAX_WAITING = 100_000;

/**
 * The contract's schema, lenient where a field only informs: a wake for a valid function is
 * acted on even with a bad request id, time or count (they fall back), never without a name.
 */
const IncomingWakeSchema = WakeMessageSchema.extend({
  fn: WakeMessageSchema.shape.fn.refine(isValidFunctionName),
  requestId: WakeMessageSchema.shape.requestId.max(200).catch('none'),
  at: z.number().finite().catch(() => Date.now()),
  waiting: WakeMessageSchema.shape.waiting.unwrap().transform((n) => Math.min(n, MAX_WAITING)).catch(1).default(1),
});

/** Validate a raw pub/sub payload. Pure. */
export function parseWake(raw: string): ParsedWake {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof v !== 'object' || v === null) return { ok: false, reason: 'not an object' };
  const r = IncomingWakeSchema.safeParse(v);
  if (!r.success) return { ok: false, reason: 'field fn is missing or not a valid function name' };
  const { waiting, ...wake } = r.data;
  return { ok: true, wake, waiting };
}
