/** Validation of what other components wrote to Redis: bad data is reported, never trusted. */
import { type FunctionState, type FunctionStateRecord, type StateChangeMessage, isValidFunctionName } from '@faas/contracts';

const STATES: readonly FunctionState[] = ['cold', 'starting', 'warm', 'stopping'];

export function isFunctionState(v: unknown): v is FunctionState {
  return typeof v === 'string' && (STATES as readonly string[]).includes(v);
}

/** A JSON object, or undefined for anything else (bad JSON, arrays are objects too but fail field checks). */
function parseJsonObject(raw: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A hash field value; undefined when it is not a valid FunctionStateRecord. */
export function parseStateRecord(raw: string): FunctionStateRecord | undefined {
  const o = parseJsonObject(raw);
  if (!o) return undefined;
  if (typeof o.name !== 'string' || !isFunctionState(o.state)) return undefined;
  return {
    name: o.name,
    version: typeof o.version === 'string' ? o.version : '',
    state: o.state,
    readyInstances: typeof o.readyInstances === 'number' ? o.readyInstances : 0,
    updatedAt: typeof o.updatedAt === 'number' ? o.updatedAt : 0,
  };
}

/** A message on the state channel; undefined when malformed. */
export function parseStateChange(raw: string): StateChangeMessage | undefined {
  const o = parseJsonObject(raw);
  if (!o) return undefined;
  if (typeof o.fn !== 'string' || !isValidFunctionName(o.fn) || !isFunctionState(o.state)) return undefined;
  if (typeof o.rev !== 'number' || !Number.isSafeInteger(o.rev)) return undefined;
  return { fn: o.fn, state: o.state, rev: o.rev };
}

/** The rev key as stored (string or null); a missing or garbled rev reads as 0. */
export function parseRev(raw: string | null): number {
  if (raw === null) return 0;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}
