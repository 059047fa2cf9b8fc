/**
 * SotW DiscoveryResponse bytes framed by hand from resources encoded once per snapshot.
 * grpc-js would otherwise re-encode every Any of every response for every stream (a
 * 1,000-cluster response to 10 routers is 10,000 Any encodes). A resource's framed bytes
 * are cached per entry, and the resources block per content set, so a response is one
 * copy of a shared block plus a few header bytes. Field numbers are those of
 * envoy.service.discovery.v3.DiscoveryResponse (checked against the proto codec in tests).
 */
import type { ResourceEntry } from './snapshot';

const WIRE_LEN = 2;
const F_VERSION_INFO = 1;
const F_RESOURCES = 2;
const F_TYPE_URL = 4;
const F_NONCE = 5;
const F_CONTROL_PLANE = 6;
const F_ANY_TYPE_URL = 1;
const F_ANY_VALUE = 2;
const F_CONTROL_PLANE_IDENTIFIER = 1;

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** One length-delimited field: tag, length, bytes. */
function lenField(field: number, bytes: Buffer): Buffer[] {
  return [varint((field << 3) | WIRE_LEN), varint(bytes.length), bytes];
}

/** One length-delimited field as a single buffer (for splicing pre-encoded messages). */
export function frameField(field: number, bytes: Buffer): Buffer {
  return Buffer.concat(lenField(field, bytes));
}

function strField(field: number, s: string): Buffer[] {
  return s === '' ? [] : lenField(field, Buffer.from(s, 'utf8'));
}

const framed = new WeakMap<ResourceEntry, Buffer>();

/** The entry as field 2 (repeated Any) of a DiscoveryResponse; computed once per entry. */
export function framedResource(e: ResourceEntry): Buffer {
  let b = framed.get(e);
  if (b === undefined) {
    const any = Buffer.concat([...strField(F_ANY_TYPE_URL, e.any.type_url), ...lenField(F_ANY_VALUE, e.any.value)]);
    b = Buffer.concat(lenField(F_RESOURCES, any));
    framed.set(e, b);
  }
  return b;
}

/** The concatenated resources field of a response carrying `entries`. */
export function resourcesBlock(entries: Iterable<ResourceEntry>): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) parts.push(framedResource(e));
  return Buffer.concat(parts);
}

export interface SotwResponseHeader {
  version_info: string;
  type_url: string;
  nonce: string;
  controlPlaneIdentifier: string;
}

/** A complete encoded DiscoveryResponse around an already encoded resources block. */
export function encodeSotwResponse(h: SotwResponseHeader, block: Buffer): Buffer {
  const cp = Buffer.concat(strField(F_CONTROL_PLANE_IDENTIFIER, h.controlPlaneIdentifier));
  return Buffer.concat([
    ...strField(F_VERSION_INFO, h.version_info),
    block,
    ...strField(F_TYPE_URL, h.type_url),
    ...strField(F_NONCE, h.nonce),
    ...lenField(F_CONTROL_PLANE, cp),
  ]);
}
