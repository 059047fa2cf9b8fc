/**
 * Which warm tier served a wake (issue 11): `paused` (docker unpause of a drained instance),
 * `created` (start of a pre-created container) or `cold` (create + start from nothing).
 * The orchestrator writes it into the function's state record when a wake made the function
 * warm; redis-rest returns it in WakeResult and the gateway sends it as HEADERS.wakeTier.
 */
import { z } from 'zod';

export const WAKE_TIERS = ['paused', 'created', 'cold'] as const;
export const WakeTierSchema = z.enum(WAKE_TIERS);
export type WakeTier = z.infer<typeof WakeTierSchema>;
