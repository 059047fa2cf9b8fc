/**
 * HTTP API of the xds-server used by the orchestrator (JSON over HTTP, express).
 *
 *   PUT    /v1/functions/:name?wait_ms=N   body FunctionRouteSpec  -> 200 RolloutResult | 4xx/5xx ControlApiError
 *   DELETE /v1/functions/:name?wait_ms=N                           -> 200 RolloutResult | ControlApiError
 *   GET    /v1/functions                                           -> { functions: FunctionRouteSpec[] }
 *   GET    /v1/routers                                             -> { routers: RouterStatus[] }
 *   GET    /healthz                                                -> 200 { ok: true }
 *
 * Every /v1 call carries `authorization: Bearer <token>` (internal-auth.ts); without it:
 * 401 {"error":"unauthorized","message"}. /healthz needs no token.
 *
 * A PUT or DELETE returns only once every connected router has ACKed the versions that
 * carry the change, in make-before-break order (cluster, endpoints, then route on add;
 * route, then cluster on remove). wait_ms bounds that wait (default 10000).
 *
 * Messages are zod schemas (types inferred from them); a schema's messages name the rule,
 * and a consumer names the field from the issue's path (xds-server: "endpoints[0].address: ...").
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { FUNCTION_NAME_RULE, isValidFunctionName } from './names';

export const ENDPOINT_HEALTH = ['HEALTHY', 'DRAINING'] as const;
export const EndpointHealthSchema = z.enum(ENDPOINT_HEALTH, {
  errorMap: (_i, ctx) => ({ message: `must be one of ${ENDPOINT_HEALTH.join(', ')} (got ${JSON.stringify(ctx.data)})` }),
});
export type EndpointHealth = z.infer<typeof EndpointHealthSchema>;

/** Limits of a FunctionRouteSpec. */
export const ROUTE_SPEC_LIMITS = {
  /** Envoy route timeouts beyond a day are certainly a unit mistake. */
  maxTimeoutMs: 24 * 3_600_000,
  maxConcurrency: 100_000,
  maxEndpoints: 1_000,
  endpointId: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
  /** wait_ms: 0 (no wait) to 10 minutes; default 10 s. */
  maxWaitMs: 600_000,
  defaultWaitMs: 10_000,
} as const;

const wholeNumber = (min: number, max: number) =>
  z.unknown().superRefine((v, ctx) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a whole number from ${min} to ${max} (got ${JSON.stringify(v)})` });
    }
  }).transform((v) => v as number);

export const FunctionNameSchema = z.unknown().superRefine((v, ctx) => {
  if (typeof v !== 'string' || !isValidFunctionName(v)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `invalid function name ${JSON.stringify(v)}: use ${FUNCTION_NAME_RULE}, and not a reserved name` });
  }
}).transform((v) => v as string);

export const EndpointSpecSchema = z.object({
  /** Instance id (container label faas.instance). */
  id: z.string({ message: 'must be 1-128 characters of letters, digits, ".", "_", ":" or "-"' })
    .regex(ROUTE_SPEC_LIMITS.endpointId, 'must be 1-128 characters of letters, digits, ".", "_", ":" or "-"'),
  /** IP literal: Envoy EDS needs IPs, never host names. */
  address: z.unknown().superRefine((v, ctx) => {
    if (typeof v !== 'string' || isIP(v) === 0) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be an IPv4 or IPv6 literal, not a host name (got ${JSON.stringify(v)})` });
  }).transform((v) => v as string),
  port: wholeNumber(1, 65535),
  health: EndpointHealthSchema,
}, { message: 'must be an object {id, address, port, health}' }).strict();
export type EndpointSpec = z.infer<typeof EndpointSpecSchema>;

const endpointsSchema = z.array(EndpointSpecSchema, { message: 'must be an array (may be empty)' })
  .max(ROUTE_SPEC_LIMITS.maxEndpoints, `at most ${ROUTE_SPEC_LIMITS.maxEndpoints} endpoints`)
  .superRefine((eps, ctx) => {
    const ids = new Set<string>();
    const addrs = new Set<string>();
    eps.forEach((e, i) => {
      if (ids.has(e.id)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'id'], message: `duplicate endpoint id ${JSON.stringify(e.id)}` });
      ids.add(e.id);
      const key = `${e.address}|${e.port}`;
      if (addrs.has(key)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'address'], message: `duplicate endpoint address ${e.address}:${e.port}` });
      addrs.add(key);
    });
  });

const routeSpecShape = {
  name: FunctionNameSchema,
  /** Whole-request timeout in the router, ms. */
  timeoutMs: wholeNumber(1, ROUTE_SPEC_LIMITS.maxTimeoutMs),
  /** Per-instance concurrency: router circuit breakers are sized from it. */
  concurrency: wholeNumber(1, ROUTE_SPEC_LIMITS.maxConcurrency),
  endpoints: endpointsSchema,
};
const OBJECT_MESSAGE = 'must be a JSON object {name?, timeoutMs, concurrency, endpoints}';

/** Desired router state of one function (stored form, e.g. in Redis). */
export const FunctionRouteSpecSchema = z.object(routeSpecShape, { message: OBJECT_MESSAGE }).strict();
export type FunctionRouteSpec = z.infer<typeof FunctionRouteSpecSchema>;

/** A PUT body: as FunctionRouteSpec, the name may be left to the URL. */
export const FunctionRouteSpecBodySchema = z.object({ ...routeSpecShape, name: FunctionNameSchema.optional() }, { message: OBJECT_MESSAGE }).strict();

/** wait_ms query parameter. */
export const WaitMsQuerySchema = z.unknown().superRefine((v, ctx) => {
  if (v === undefined) return;
  if (typeof v !== 'string' || !/^\d{1,7}$/.test(v) || Number(v) > ROUTE_SPEC_LIMITS.maxWaitMs) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a whole number of milliseconds from 0 to ${ROUTE_SPEC_LIMITS.maxWaitMs}` });
  }
}).transform((v) => (v === undefined ? ROUTE_SPEC_LIMITS.defaultWaitMs : Number(v)));

export const XDS_TYPE_NAMES = ['listener', 'route', 'cluster', 'endpoint'] as const;
export const XdsTypeNameSchema = z.enum(XDS_TYPE_NAMES);
export type XdsTypeName = z.infer<typeof XdsTypeNameSchema>;

export const RouterTypeStatusSchema = z.object({
  type: XdsTypeNameSchema,
  typeUrl: z.string(),
  sentVersion: z.string().nullable(),
  ackedVersion: z.string().nullable(),
  nacked: z.object({ version: z.string(), message: z.string(), at: z.number() }).nullable(),
  resourceCount: z.number().int(),
});
export type RouterTypeStatus = z.infer<typeof RouterTypeStatusSchema>;

export const RouterStatusSchema = z.object({
  nodeId: z.string(),
  userAgent: z.string(),
  /** 'sotw' or 'delta' ADS stream. */
  protocol: z.enum(['sotw', 'delta']),
  connectedAt: z.number(),
  types: z.array(RouterTypeStatusSchema),
});
export type RouterStatus = z.infer<typeof RouterStatusSchema>;

export const RolloutResultSchema = z.object({
  fn: z.string(),
  /**
   * Per type, the version every router in `routers` ACKed for this change. Versions are
   * numbered per router stream (each response gets its own version_info, shown per router
   * by GET /v1/routers), so a type is present only when all of them had ACKed the same
   * version when the wait completed (always so with a single router); otherwise it is
   * left out. Empty with wait_ms=0 (nothing was waited for).
   */
  versions: z.record(XdsTypeNameSchema, z.string()),
  /**
   * The target snapshot's version per type (`<epoch>-<generation>`, changes only when that
   * type's content changes), whether or not the call waited.
   */
  snapshotVersions: z.record(XdsTypeNameSchema, z.string()),
  routers: z.array(z.string()),
  elapsedMs: z.number(),
});
export type RolloutResult = Omit<z.infer<typeof RolloutResultSchema>, 'versions' | 'snapshotVersions'> & {
  versions: Partial<Record<XdsTypeName, string>>;
  snapshotVersions: Record<XdsTypeName, string>;
};

export const CONTROL_API_ERROR_CODES = [
  'invalid_request', 'not_found', 'nacked', 'ack_timeout', 'no_router',
  /** An unexpected server fault (a bug): the message says what failed. */
  'internal',
] as const;
export type ControlApiErrorCode = (typeof CONTROL_API_ERROR_CODES)[number];

export const ControlApiErrorSchema = z.object({
  error: z.enum(CONTROL_API_ERROR_CODES),
  message: z.string(),
  /** For 'nacked': the router and its error text. */
  router: z.string().optional(),
  detail: z.string().optional(),
  /** For 'ack_timeout': routers that had not ACKed. */
  pending: z.array(z.string()).optional(),
});
export type ControlApiError = z.infer<typeof ControlApiErrorSchema>;
