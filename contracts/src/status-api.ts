/**
 * The orchestrator's status endpoint (GET /v1/status): the definition file's last load, the
 * active version of each function, every version it still runs or just failed, and the last
 * error. Read by users, tests, and later the CLI and the status page.
 */
import { z } from 'zod';

/**
 * A function version's life: building (image) -> starting (instances) -> active (takes new
 * requests) -> draining (in-flight requests finish) -> retired (gone from the list);
 * failed: its image or instances could not be made, the previous version keeps serving.
 */
export const VERSION_STATES = ['building', 'starting', 'active', 'draining', 'failed'] as const;
export type VersionState = (typeof VERSION_STATES)[number];

export const DefinitionIssueSchema = z.object({
  file: z.string(),
  line: z.number().int().optional(),
  function: z.string().optional(),
  field: z.string().optional(),
  message: z.string(),
});

export const VersionStatusSchema = z.object({
  version: z.string(),
  state: z.enum(VERSION_STATES),
  /** Image tag, once built. */
  image: z.string().optional(),
  /** Instances of this version by lifecycle state (names as in the orchestrator's instance set). */
  instances: z.record(z.string(), z.number().int().nonnegative()),
  /** Epoch ms of the last state change. */
  since: z.number(),
  /** Why it failed (build log tail, start error). */
  error: z.string().optional(),
});
export type VersionStatus = z.infer<typeof VersionStatusSchema>;

export const FunctionStatusSchema = z.object({
  name: z.string(),
  /** The version new requests go to; null until one is active. */
  activeVersion: z.string().nullable(),
  versions: z.array(VersionStatusSchema),
});
export type FunctionStatus = z.infer<typeof FunctionStatusSchema>;

export const DefinitionLoadSchema = z.object({
  /** Epoch ms of the attempt. */
  at: z.number(),
  ok: z.boolean(),
  /** When not ok: every problem, naming file, line, function and field. */
  issues: z.array(DefinitionIssueSchema).optional(),
});
export type DefinitionLoad = z.infer<typeof DefinitionLoadSchema>;

export const StatusResponseSchema = z.object({
  file: z.string(),
  /** The last load that was applied (what is serving). */
  lastApplied: DefinitionLoadSchema.nullable(),
  /** The last attempt, applied or rejected. */
  lastLoad: DefinitionLoadSchema.nullable(),
  functions: z.array(FunctionStatusSchema),
});
export type StatusResponse = z.infer<typeof StatusResponseSchema>;
