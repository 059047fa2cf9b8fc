/** Query parameter parsing by the contract's schemas (gateway-api.ts): pure, names the parameter in every error. */
import { GATEWAY_API_QUERY, INSTANCE_FAILURE_QUERY, type IntQueryRule, intQuerySchema } from '@faas/contracts';
import { ApiError } from './errors';

export type IntParamRule = IntQueryRule;

export function parseIntParam(raw: unknown, rule: IntParamRule): number | undefined {
  if (raw === undefined) return rule.fallback;
  const r = intQuerySchema(rule).safeParse(raw);
  if (!r.success) throw new ApiError('invalid_request', `query parameter ${rule.name} must be one whole number from ${rule.min} to ${rule.max}`);
  return r.data;
}

export const WAKE_TIMEOUT_RULE: IntParamRule = GATEWAY_API_QUERY.wakeTimeoutMs;
export const WAIT_MS_RULE: IntParamRule = GATEWAY_API_QUERY.waitMs;
export const AFTER_RULE: IntParamRule = GATEWAY_API_QUERY.after;
export const FAILURE_SINCE_RULE: IntParamRule = INSTANCE_FAILURE_QUERY.since;
export const FAILURE_WAIT_RULE: IntParamRule = INSTANCE_FAILURE_QUERY.waitMs;
