/**
 * Validation of desired state coming from outside (the control API, Redis). Pure: unknown
 * value in, FunctionRouteSpec out, or an InvalidSpecError naming the bad field.
 */
import * as net from 'node:net';
import { FUNCTION_NAME_RULE, isValidFunctionName, type EndpointHealth, type EndpointSpec, type FunctionRouteSpec } from '@faas/contracts';
import { InvalidSpecError } from './errors';

const HEALTH: readonly EndpointHealth[] = ['HEALTHY', 'DRAINING'];
const SPEC_FIELDS = ['name', 'timeoutMs', 'concurrency', 'endpoints'];
const ENDPOINT_FIELDS = ['id', 'address', 'port', 'health'];
/** Envoy route timeouts beyond a day are certainly a unit mistake. */
const MAX_TIMEOUT_MS = 24 * 3_600_000;
const MAX_CONCURRENCY = 100_000;
const MAX_ENDPOINTS = 1_000;
const ENDPOINT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknown(obj: Record<string, unknown>, allowed: string[], where: string): void {
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw new InvalidSpecError(where === '' ? extra[0]! : `${where}.${extra[0]}`, `unknown field (allowed: ${allowed.join(', ')})`);
}

function positiveInt(v: unknown, field: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new InvalidSpecError(field, `must be a whole number from 1 to ${max} (got ${JSON.stringify(v)})`);
  }
  return v;
}

export function validateFunctionName(name: unknown): string {
  if (typeof name !== 'string' || !isValidFunctionName(name)) {
    throw new InvalidSpecError('name', `invalid function name ${JSON.stringify(name)}: use ${FUNCTION_NAME_RULE}, and not a reserved name`);
  }
  return name;
}

function validateEndpoint(raw: unknown, i: number): EndpointSpec {
  const where = `endpoints[${i}]`;
  if (!isRecord(raw)) throw new InvalidSpecError(where, 'must be an object {id, address, port, health}');
  rejectUnknown(raw, ENDPOINT_FIELDS, where);
  const { id, address, port, health } = raw;
  if (typeof id !== 'string' || !ENDPOINT_ID.test(id)) {
    throw new InvalidSpecError(`${where}.id`, 'must be 1-128 characters of letters, digits, ".", "_", ":" or "-"');
  }
  if (typeof address !== 'string' || net.isIP(address) === 0) {
    throw new InvalidSpecError(`${where}.address`, `must be an IPv4 or IPv6 literal, not a host name (got ${JSON.stringify(address)})`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidSpecError(`${where}.port`, `must be a whole number from 1 to 65535 (got ${JSON.stringify(port)})`);
  }
  if (typeof health !== 'string' || !HEALTH.includes(health as EndpointHealth)) {
    throw new InvalidSpecError(`${where}.health`, `must be one of ${HEALTH.join(', ')} (got ${JSON.stringify(health)})`);
  }
  return { id, address, port, health: health as EndpointHealth };
}

/**
 * Validate a FunctionRouteSpec. `expectedName` (from the URL) must match body.name when
 * the body has one; a body without name takes it.
 */
export function validateSpec(raw: unknown, expectedName?: string): FunctionRouteSpec {
  if (!isRecord(raw)) throw new InvalidSpecError('body', 'must be a JSON object {name?, timeoutMs, concurrency, endpoints}');
  rejectUnknown(raw, SPEC_FIELDS, '');
  const name = validateFunctionName(raw.name ?? expectedName);
  if (expectedName !== undefined && name !== expectedName) {
    throw new InvalidSpecError('name', `body name ${JSON.stringify(name)} differs from the URL's ${JSON.stringify(expectedName)}`);
  }
  const timeoutMs = positiveInt(raw.timeoutMs, 'timeoutMs', MAX_TIMEOUT_MS);
  const concurrency = positiveInt(raw.concurrency, 'concurrency', MAX_CONCURRENCY);
  if (!Array.isArray(raw.endpoints)) throw new InvalidSpecError('endpoints', 'must be an array (may be empty)');
  if (raw.endpoints.length > MAX_ENDPOINTS) throw new InvalidSpecError('endpoints', `at most ${MAX_ENDPOINTS} endpoints`);
  const endpoints = raw.endpoints.map((e, i) => validateEndpoint(e, i));
  const ids = new Set<string>();
  const addrs = new Set<string>();
  endpoints.forEach((e, i) => {
    if (ids.has(e.id)) throw new InvalidSpecError(`endpoints[${i}].id`, `duplicate endpoint id ${JSON.stringify(e.id)}`);
    ids.add(e.id);
    const key = `${e.address}|${e.port}`;
    if (addrs.has(key)) throw new InvalidSpecError(`endpoints[${i}].address`, `duplicate endpoint address ${e.address}:${e.port}`);
    addrs.add(key);
  });
  return { name, timeoutMs, concurrency, endpoints };
}

/** wait_ms query parameter: 0 (no wait) to 10 minutes; default 10 s. */
export function parseWaitMs(raw: unknown): number {
  if (raw === undefined) return 10_000;
  if (typeof raw !== 'string' || !/^\d{1,7}$/.test(raw) || Number(raw) > 600_000) {
    throw new InvalidSpecError('wait_ms', 'must be a whole number of milliseconds from 0 to 600000');
  }
  return Number(raw);
}
