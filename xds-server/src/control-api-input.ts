/**
 * Control API input (HTTP bodies, query, desired state read back from Redis) parsed with
 * contracts' zod schemas; a failure becomes an InvalidSpecError naming the field
 * ("endpoints[0].address: must be an IPv4 or IPv6 literal ..."). No rule is written here.
 */
import {
  FunctionNameSchema, FunctionRouteSpecBodySchema, WaitMsQuerySchema, type FunctionRouteSpec,
} from '@faas/contracts';
import type { ZodError, ZodIssue, ZodType, ZodTypeDef } from 'zod';
import { InvalidSpecError } from './errors';

/** `endpoints[0].address` from a zod path; `root` when the path is empty. */
function fieldOf(path: readonly (string | number)[], root: string): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out === '' ? root : out;
}

function toInvalid(err: ZodError, root: string, allowed: readonly string[]): InvalidSpecError {
  const issue: ZodIssue = err.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const where = fieldOf(issue.path, '');
    const key = issue.keys[0]!;
    const fields = where.startsWith('endpoints') ? ['id', 'address', 'port', 'health'] : allowed;
    return new InvalidSpecError(where === '' ? key : `${where}.${key}`, `unknown field (allowed: ${fields.join(', ')})`);
  }
  return new InvalidSpecError(fieldOf(issue.path, root), issue.message);
}

function parse<T>(schema: ZodType<T, ZodTypeDef, unknown>, raw: unknown, root: string, allowed: readonly string[] = []): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw toInvalid(r.error, root, allowed);
  return r.data;
}

const SPEC_FIELDS = ['name', 'timeoutMs', 'concurrency', 'endpoints'] as const;

export function validateFunctionName(name: unknown): string {
  return parse(FunctionNameSchema, name, 'name');
}

/**
 * A FunctionRouteSpec from outside. `expectedName` (from the URL) must match body.name
 * when the body has one; a body without name takes it.
 */
export function validateSpec(raw: unknown, expectedName?: string): FunctionRouteSpec {
  const body = parse(FunctionRouteSpecBodySchema, raw, 'body', SPEC_FIELDS);
  const name = body.name ?? validateFunctionName(expectedName);
  if (expectedName !== undefined && name !== expectedName) {
    throw new InvalidSpecError('name', `body name ${JSON.stringify(name)} differs from the URL's ${JSON.stringify(expectedName)}`);
  }
  return { name, timeoutMs: body.timeoutMs, concurrency: body.concurrency, endpoints: body.endpoints };
}

/** wait_ms query parameter: 0 (no wait) to 10 minutes; default 10 s. */
export function parseWaitMs(raw: unknown): number {
  return parse(WaitMsQuerySchema, raw, 'wait_ms');
}
