/** Query parameter parsing: pure, names the parameter in every error. */
import { ApiError } from './errors';

export interface IntParamRule {
  name: string;
  min: number;
  max: number;
  /** Used when the parameter is absent; undefined = the parameter is optional with no default. */
  fallback?: number;
}

/** Express gives string | string[] | object for query values; only one plain integer string is accepted. */
export function parseIntParam(raw: unknown, rule: IntParamRule): number | undefined {
  if (raw === undefined) return rule.fallback;
  if (typeof raw !== 'string' || !/^\d{1,16}$/.test(raw)) {
    throw new ApiError('invalid_request', `query parameter ${rule.name} must be one whole number from ${rule.min} to ${rule.max}`);
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < rule.min || n > rule.max) {
    throw new ApiError('invalid_request', `query parameter ${rule.name}=${raw} is out of range ${rule.min}..${rule.max}`);
  }
  return n;
}

export const WAKE_TIMEOUT_RULE: IntParamRule = { name: 'timeout_ms', min: 1, max: 120_000, fallback: 30_000 };
export const WAIT_MS_RULE: IntParamRule = { name: 'wait_ms', min: 0, max: 60_000, fallback: 25_000 };
export const AFTER_RULE: IntParamRule = { name: 'after', min: 0, max: Number.MAX_SAFE_INTEGER };
