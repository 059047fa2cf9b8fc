/**
 * Validation of what other components wrote to Redis, by the schemas declared once in contracts
 * (redis-keys.ts): bad data is reported, never trusted.
 */
import type { z } from 'zod';
import {
  type FunctionStateRecord, FunctionStateRecordSchema, type InstanceFailureRecord, InstanceFailureRecordSchema, type StateChangeMessage,
  StateChangeMessageSchema, isValidFunctionName,
} from '@faas/contracts';

/** JSON text checked against a schema; undefined for bad JSON or a value the schema refuses. */
function parseJsonAs<S extends z.ZodTypeAny>(schema: S, raw: string): z.infer<S> | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined; // not JSON: the caller reports it as malformed
  }
  const r = schema.safeParse(v);
  return r.success ? (r.data as z.infer<S>) : undefined;
}

/** A hash field value; undefined when it is not a valid FunctionStateRecord. */
export function parseStateRecord(raw: string): FunctionStateRecord | undefined {
  return parseJsonAs(FunctionStateRecordSchema, raw);
}

/** A message on the state channel; undefined when malformed or for a name no function can have. */
export function parseStateChange(raw: string): StateChangeMessage | undefined {
  const msg = parseJsonAs(StateChangeMessageSchema, raw);
  return msg && isValidFunctionName(msg.fn) && Number.isSafeInteger(msg.rev) ? msg : undefined;
}

/** A list entry or message of the orchestrator's instance failures (instance-failures.ts); undefined when malformed. */
export function parseFailureRecord(raw: string): InstanceFailureRecord | undefined {
  const r = parseJsonAs(InstanceFailureRecordSchema, raw);
  return r && isValidFunctionName(r.fn) ? r : undefined;
}

/** The rev key as stored (string or null); a missing or garbled rev reads as 0. */
export function parseRev(raw: string | null): number {
  if (raw === null) return 0;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}
