/**
 * Turning a handler's result into an HTTP response. Pure: result in, status/headers/bytes out,
 * or an explanation of why the result cannot be sent.
 */
import { RUNTIME_ERRORS, type RuntimeErrorCode } from './paths';

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export class InvalidResultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidResultError';
  }
}

const RESPONSE_KEYS = new Set(['statusCode', 'headers', 'body', 'isBase64Encoded']);

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array; // Buffer is a Uint8Array
}

/** A Lambda-proxy-like response object: has statusCode, or only response keys including body. */
export function isResponseShape(v: unknown): v is { statusCode?: unknown; headers?: unknown; body?: unknown; isBase64Encoded?: unknown } {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || isBytes(v)) return false;
  const keys = Object.keys(v);
  if ('statusCode' in v) return true;
  return keys.length > 0 && keys.includes('body') && keys.every((k) => RESPONSE_KEYS.has(k));
}

function encodeBody(body: unknown, base64: boolean): { bytes: Buffer; type: string | undefined } {
  if (body === undefined || body === null) return { bytes: Buffer.alloc(0), type: undefined };
  if (typeof body === 'string') {
    if (base64) return { bytes: Buffer.from(body, 'base64'), type: 'application/octet-stream' };
    return { bytes: Buffer.from(body, 'utf8'), type: 'text/plain; charset=utf-8' };
  }
  if (isBytes(body)) return { bytes: Buffer.from(body.buffer, body.byteOffset, body.byteLength), type: 'application/octet-stream' };
  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch (err) {
    throw new InvalidResultError(`the handler's result cannot be serialised to JSON: ${(err as Error).message}`);
  }
  if (json === undefined) throw new InvalidResultError(`the handler returned a ${typeof body}, which cannot be sent as a body`);
  return { bytes: Buffer.from(json, 'utf8'), type: 'application/json' };
}

function normaliseHeaders(raw: unknown): Record<string, string | string[]> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidResultError('result.headers must be an object of header name to value');
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) throw new InvalidResultError(`result.headers: invalid header name ${JSON.stringify(k)}`);
    const values = Array.isArray(v) ? v : [v];
    const strs = values.map((x) => {
      if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') {
        throw new InvalidResultError(`result.headers.${k}: values must be strings or numbers`);
      }
      const s = String(x);
      if (/[\r\n\0]/.test(s)) throw new InvalidResultError(`result.headers.${k}: value contains a line break or NUL`);
      return s;
    });
    out[k.toLowerCase()] = Array.isArray(v) ? strs : (strs[0] as string);
  }
  return out;
}

/**
 * Result contract: a response object {statusCode?, headers?, body?, isBase64Encoded?}; or a
 * string/bytes (200); or undefined/null (204); or any other JSON-able value (200 application/json).
 */
export function toHttpResponse(result: unknown): HttpResponse {
  if (result === undefined || result === null) return { statusCode: 204, headers: {}, body: Buffer.alloc(0) };
  if (isResponseShape(result)) {
    let statusCode = 200;
    if (result.statusCode !== undefined) {
      const s = result.statusCode;
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 200 || s > 599) {
        throw new InvalidResultError(`result.statusCode must be a whole number from 200 to 599, got ${JSON.stringify(s)}`);
      }
      statusCode = s;
    }
    const headers = normaliseHeaders(result.headers);
    const { bytes, type } = encodeBody(result.body, result.isBase64Encoded === true);
    if (type !== undefined && headers['content-type'] === undefined) headers['content-type'] = type;
    return { statusCode, headers, body: bytes };
  }
  const { bytes, type } = encodeBody(result, false);
  return { statusCode: 200, headers: type !== undefined ? { 'content-type': type } : {}, body: bytes };
}

/** A runtime error answer: {"error","message","fn","requestId"}, status from the code. */
export function errorResponse(code: RuntimeErrorCode, message: string, fn: string, requestId: string): HttpResponse {
  return jsonResponse(RUNTIME_ERRORS[code], { error: code, message, fn, requestId });
}

export function jsonResponse(statusCode: number, value: Record<string, unknown>): HttpResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(value)) };
}
