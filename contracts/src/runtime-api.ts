/**
 * What a function runtime answers on RUNTIME_PATHS (faas-runtime/node/src/server.ts), read by the
 * orchestrator: readiness before an instance becomes routable, stats for scaling and draining.
 */
import { z } from 'zod';

/** GET /_faas/stats (200). */
export const RuntimeStatsSchema = z.object({
  function: z.string().optional(),
  version: z.string().optional(),
  /** Requests inside the handler right now. */
  inflight: z.number().int().nonnegative(),
  served: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative().optional(),
  concurrency: z.number().int().positive().optional(),
  /** ms since the last request finished; 0 while busy. */
  idleMs: z.number().nonnegative(),
  ready: z.boolean(),
  draining: z.boolean(),
});
export type RuntimeStats = z.infer<typeof RuntimeStatsSchema>;

/** GET /_faas/ready: 200 when ready, 503 while loading or draining. */
export const RuntimeReadySchema = z.object({
  ready: z.boolean(),
  draining: z.boolean(),
  loaded: z.boolean().optional(),
});
export type RuntimeReady = z.infer<typeof RuntimeReadySchema>;
