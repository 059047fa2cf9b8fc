/**
 * Envoy's HCM local_reply_config as the stand-in plays it: mappers (response_flag_filter or
 * status_code_filter; status_code rewrite, headers_to_add, body_format_override) and the
 * default body_format (json_format or text_format with the command operators below).
 * Anything else is refused (NACK) rather than silently ignored. Decode and render are pure.
 */
import { ResourceError } from './errors';
import type { ProtoObject } from './protos';

export type BodyFormat =
  | { kind: 'json'; fields: JsonTemplate; omitEmpty: boolean; contentType: string }
  | { kind: 'text'; text: string; contentType: string };
export type JsonTemplate = { [k: string]: string | number | boolean | null | JsonTemplate };

export interface LocalReplyMapper {
  /** response_flag_filter flags, or undefined for a status filter. */
  flags: ReadonlySet<string> | undefined;
  status: { op: 'EQ' | 'GE' | 'LE'; value: number } | undefined;
  statusCode: number | undefined;
  headers: ReadonlyArray<readonly [string, string]>;
  bodyFormat: BodyFormat | undefined;
}

export interface LocalReplyConfig {
  mappers: LocalReplyMapper[];
  bodyFormat: BodyFormat | undefined;
}

/** What a command operator can read about one local reply. */
export interface ReplyContext {
  status: number;
  flag: string;
  /** Envoy's local reply text (e.g. "no healthy upstream"). */
  body: string;
  /** Envoy's response code details (e.g. "no_healthy_upstream"). */
  details: string;
  requestHeaders: Readonly<Record<string, string | string[] | undefined>>;
  cluster: string | undefined;
  clusterMetadata: ReadonlyMap<string, Readonly<Record<string, string>>> | undefined;
}

export interface RenderedReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const EMPTY_LOCAL_REPLY: LocalReplyConfig = { mappers: [], bodyFormat: undefined };

const OPERATOR = /%([A-Z_]+)(?:\(([^)]*)\))?%/g;
const KNOWN_OPERATORS: ReadonlySet<string> = new Set([
  'LOCAL_REPLY_BODY', 'RESPONSE_CODE', 'RESPONSE_FLAGS', 'RESPONSE_CODE_DETAILS', 'REQ', 'UPSTREAM_CLUSTER', 'CLUSTER_METADATA',
]);

function isObj(v: unknown): v is ProtoObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function fail(where: string, msg: string): never {
  throw new ResourceError(`${where}: ${msg}`, { where });
}

function checkOperators(s: string, where: string): void {
  for (const m of s.matchAll(OPERATOR)) {
    if (!KNOWN_OPERATORS.has(m[1] as string)) fail(where, `command operator %${m[1] as string}% is not supported by envoy-standin`);
  }
}

/** google.protobuf.Struct/Value as protobufjs decodes them (camelCase or snake_case fields). */
function decodeValue(v: unknown, where: string): JsonTemplate[string] {
  if (!isObj(v)) return null;
  const pick = (camel: string, snake: string): unknown => v[camel] ?? v[snake];
  // The oneof's name when the decoder set it, else the member that is present.
  const kind = typeof v.kind === 'string' ? v.kind
    : ['stringValue', 'numberValue', 'boolValue', 'structValue', 'nullValue', 'string_value', 'number_value', 'bool_value', 'struct_value', 'null_value'].find((k) => v[k] !== undefined && v[k] !== null) ?? '';
  switch (kind) {
    case 'stringValue': case 'string_value': { const s = String(pick('stringValue', 'string_value')); checkOperators(s, where); return s; }
    case 'numberValue': case 'number_value': return Number(pick('numberValue', 'number_value'));
    case 'boolValue': case 'bool_value': return pick('boolValue', 'bool_value') === true;
    case 'structValue': case 'struct_value': return decodeStruct(pick('structValue', 'struct_value'), where);
    case 'nullValue': case 'null_value': return null;
    default: return fail(where, `json_format value of kind "${kind}" is not supported by envoy-standin`);
  }
}

function decodeStruct(s: unknown, where: string): JsonTemplate {
  const out: JsonTemplate = {};
  const fields = isObj(s) && isObj(s.fields) ? s.fields : {};
  for (const [k, v] of Object.entries(fields)) out[k] = decodeValue(v, `${where}.${k}`);
  return out;
}

export function decodeBodyFormat(f: unknown, where: string): BodyFormat | undefined {
  if (!isObj(f)) return undefined;
  const contentType = typeof f.content_type === 'string' && f.content_type !== '' ? f.content_type : undefined;
  const format = typeof f.format === 'string' ? f.format : isObj(f.json_format) ? 'json_format' : typeof f.text_format === 'string' ? 'text_format' : '';
  if (format === 'json_format') {
    return { kind: 'json', fields: decodeStruct(f.json_format, `${where}.json_format`), omitEmpty: f.omit_empty_values === true, contentType: contentType ?? 'application/json' };
  }
  if (format === 'text_format') {
    const text = String(f.text_format ?? '');
    checkOperators(text, `${where}.text_format`);
    return { kind: 'text', text, contentType: contentType ?? 'text/plain' };
  }
  return fail(where, `format "${format}" is not supported by envoy-standin (json_format or text_format)`);
}

function decodeFilter(f: unknown, where: string): Pick<LocalReplyMapper, 'flags' | 'status'> {
  if (!isObj(f)) fail(where, 'filter is required');
  if (isObj(f.response_flag_filter)) {
    const flags = Array.isArray(f.response_flag_filter.flags) ? f.response_flag_filter.flags.map(String) : [];
    return { flags: new Set(flags), status: undefined };
  }
  if (isObj(f.status_code_filter) && isObj(f.status_code_filter.comparison)) {
    const c = f.status_code_filter.comparison;
    const op = String(c.op ?? 'EQ');
    if (op !== 'EQ' && op !== 'GE' && op !== 'LE') fail(where, `comparison op "${op}" unknown`);
    return { flags: undefined, status: { op, value: Number(isObj(c.value) ? c.value.default_value ?? 0 : 0) } };
  }
  return fail(where, 'only response_flag_filter and status_code_filter are supported by envoy-standin');
}

export function decodeLocalReplyConfig(cfg: unknown, where: string): LocalReplyConfig {
  if (!isObj(cfg)) return EMPTY_LOCAL_REPLY;
  const mappers = (Array.isArray(cfg.mappers) ? cfg.mappers : []).map((m: unknown, i): LocalReplyMapper => {
    const w = `${where}.mappers[${i}]`;
    if (!isObj(m)) fail(w, 'missing');
    if (isObj(m.body)) fail(w, 'body is not supported by envoy-standin (use body_format_override)');
    const headers = (Array.isArray(m.headers_to_add) ? m.headers_to_add : []).map((h: unknown, j): readonly [string, string] => {
      const hw = `${w}.headers_to_add[${j}]`;
      if (!isObj(h) || !isObj(h.header) || typeof h.header.key !== 'string' || h.header.key === '') fail(hw, 'header.key is required');
      return [h.header.key.toLowerCase(), String(h.header.value ?? '')];
    });
    const sc = isObj(m.status_code) && m.status_code.value !== undefined && m.status_code.value !== null ? Number(m.status_code.value) : undefined;
    return { ...decodeFilter(m.filter, `${w}.filter`), statusCode: sc, headers, bodyFormat: decodeBodyFormat(m.body_format_override, `${w}.body_format_override`) };
  });
  return { mappers, bodyFormat: decodeBodyFormat(cfg.body_format, `${where}.body_format`) };
}

function matches(m: LocalReplyMapper, ctx: ReplyContext): boolean {
  if (m.flags !== undefined) return m.flags.has(ctx.flag);
  const s = m.status;
  if (s === undefined) return false;
  return s.op === 'EQ' ? ctx.status === s.value : s.op === 'GE' ? ctx.status >= s.value : ctx.status <= s.value;
}

function operator(ctx: ReplyContext, name: string, arg: string | undefined): string {
  switch (name) {
    case 'LOCAL_REPLY_BODY': return ctx.body;
    case 'RESPONSE_CODE': return String(ctx.status);
    case 'RESPONSE_FLAGS': return ctx.flag;
    case 'RESPONSE_CODE_DETAILS': return ctx.details;
    case 'UPSTREAM_CLUSTER': return ctx.cluster ?? '';
    case 'REQ': {
      const v = ctx.requestHeaders[(arg ?? '').toLowerCase()];
      return Array.isArray(v) ? v.join(',') : v ?? '';
    }
    case 'CLUSTER_METADATA': {
      const [ns = '', key = ''] = (arg ?? '').split(':');
      return ctx.clusterMetadata?.get(ns)?.[key] ?? '';
    }
    default: return '';
  }
}

function substitute(s: string, ctx: ReplyContext): string {
  return s.replace(OPERATOR, (_m, name: string, arg: string | undefined) => operator(ctx, name, arg));
}

function renderJson(t: JsonTemplate, ctx: ReplyContext, omitEmpty: boolean): JsonTemplate {
  const out: JsonTemplate = {};
  for (const [k, v] of Object.entries(t)) {
    const r = typeof v === 'string' ? substitute(v, ctx) : v !== null && typeof v === 'object' ? renderJson(v, ctx, omitEmpty) : v;
    if (omitEmpty && (r === '' || r === null)) continue;
    out[k] = r;
  }
  return out;
}

/** Envoy's LocalReply::rewrite: the first matching mapper, then the body format. */
export function renderLocalReply(cfg: LocalReplyConfig, ctx: ReplyContext): RenderedReply {
  const headers: Record<string, string> = {};
  let status = ctx.status;
  let format = cfg.bodyFormat;
  const m = cfg.mappers.find((x) => matches(x, ctx));
  if (m !== undefined) {
    for (const [k, v] of m.headers) headers[k] = v;
    if (m.statusCode !== undefined) status = m.statusCode;
    if (m.bodyFormat !== undefined) format = m.bodyFormat;
  }
  const c: ReplyContext = { ...ctx, status };
  if (format === undefined) {
    headers['content-type'] = 'text/plain';
    return { status, headers, body: ctx.body };
  }
  headers['content-type'] = format.contentType;
  const body = format.kind === 'json' ? `${JSON.stringify(renderJson(format.fields, c, format.omitEmpty))}\n` : substitute(format.text, c);
  return { status, headers, body };
}
