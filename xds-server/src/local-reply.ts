/**
 * The HCM local_reply_config pushed to every router: every reply the router itself produces
 * (no route, no healthy upstream, overflow, timeout, upstream died, protocol errors) becomes
 * a JSON body per contracts/src/client-errors.ts, with a stable code chosen per response
 * flag or status. UH/NR replies also carry HEADERS.routerNoUpstream so the gateway can tell
 * them from a function's own 503/404. Responses from a function pass through untouched.
 */
import { CLIENT_ERRORS, type ClientErrorCode, HEADERS, ROUTER_FAILURE_REDIRECT } from '@faas/contracts';
import type { LocalReplyConfig } from './generated/envoy/extensions/filters/network/http_connection_manager/v3/LocalReplyConfig';
import type { ResponseMapper } from './generated/envoy/extensions/filters/network/http_connection_manager/v3/ResponseMapper';
import type { AccessLogFilter } from './generated/envoy/config/accesslog/v3/AccessLogFilter';
import type { SubstitutionFormatString } from './generated/envoy/config/core/v3/SubstitutionFormatString';

/** Response flags of the router's own replies when a function has no live upstream. */
export const NO_UPSTREAM_FLAGS: readonly string[] = ['UH', 'NR'];

/** Namespace and key of the cluster metadata that names a cluster's function (`fn` in bodies). */
export const FN_METADATA = { namespace: 'faas', key: 'fn' } as const;

interface ReplyRule {
  filter: AccessLogFilter;
  code: ClientErrorCode;
  /** Adds the no-upstream marker. */
  marker?: true;
  /** Hands the reply to the gateway's named location (X-Accel-Redirect, contracts/instance-failures.ts). */
  redirect?: string;
}

const flags = (...f: string[]): AccessLogFilter => ({ response_flag_filter: { flags: f } });
const status = (code: number): AccessLogFilter => ({
  status_code_filter: { comparison: { op: 'EQ', value: { default_value: code, runtime_key: `faas.local_reply.status_${code}` } } },
});

/**
 * First match wins (Envoy's order). UC: the upstream connection ended after the request was
 * sent (retries of never-sent requests already happened), so the instance failed with it.
 * UF/NC: no instance could be reached. DPE: the HTTP/1 codec refused the request.
 */
const RULES: readonly ReplyRule[] = [
  { filter: flags('UH'), code: 'no_healthy_instance', marker: true },
  { filter: flags('NR'), code: 'not_found', marker: true },
  { filter: flags('UO'), code: 'overloaded' },
  { filter: flags('UT'), code: 'upstream_timeout' },
  // The gateway asks the orchestrator's record why the instance ended (out_of_memory or not).
  { filter: flags('UC'), code: 'instance_failed', redirect: ROUTER_FAILURE_REDIRECT.location },
  { filter: flags('UF', 'NC', 'URX'), code: 'no_healthy_instance' },
  { filter: status(431), code: 'headers_too_large' },
  { filter: flags('DPE'), code: 'invalid_request' },
];

/** Local replies no rule names (e.g. Envoy's 408, 413) still get a JSON body. */
const DEFAULT_CODE: ClientErrorCode = 'bad_gateway';

/** {"error","message","fn","requestId"} with command operators; empty values are omitted. */
export function jsonBody(code: ClientErrorCode): SubstitutionFormatString {
  return {
    json_format: {
      fields: {
        error: { stringValue: code },
        message: { stringValue: '%LOCAL_REPLY_BODY% (%RESPONSE_CODE_DETAILS%)' },
        fn: { stringValue: `%CLUSTER_METADATA(${FN_METADATA.namespace}:${FN_METADATA.key})%` },
        requestId: { stringValue: '%REQ(X-REQUEST-ID)%' },
      },
    },
    omit_empty_values: true,
    content_type: 'application/json',
  };
}

function mapper(rule: ReplyRule): ResponseMapper {
  const m: ResponseMapper = {
    filter: rule.filter,
    // The code's documented status (Envoy answers UC with 503, the contract says 502).
    status_code: { value: CLIENT_ERRORS[rule.code].status },
    body_format_override: jsonBody(rule.code),
  };
  if (rule.marker) m.headers_to_add = [{ header: { key: HEADERS.routerNoUpstream, value: '1' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }];
  if (rule.redirect) m.headers_to_add = [{ header: { key: ROUTER_FAILURE_REDIRECT.header, value: rule.redirect }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }];
  return m;
}

export function localReplyConfig(): LocalReplyConfig {
  return { mappers: RULES.map(mapper), body_format: jsonBody(DEFAULT_CODE) };
}
