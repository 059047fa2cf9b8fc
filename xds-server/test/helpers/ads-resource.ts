/**
 * One resource as the test ADS clients hold it: the encoded bytes as received (the benchmark
 * reads those on the wire), with the decoded body and the hash computed only when asked for,
 * so thousands of resources per push cost nothing unless a test looks at them.
 */
import { createHash } from 'node:crypto';
import { decodeMessage, fullNameOfTypeUrl, TYPE_URLS, type ResourceType } from '../../src/proto';

/** Decode an Any and, recursively, every Any inside it (proto-loader leaves them as bytes). */
export function decodeAny(any: { type_url: string; value: Buffer }): Record<string, unknown> {
  return expandAnys(decodeMessage<Record<string, unknown>>(fullNameOfTypeUrl(any.type_url), any.value)) as Record<string, unknown>;
}

function expandAnys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(expandAnys);
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  const o = v as Record<string, unknown>;
  if (typeof o.type_url === 'string' && Buffer.isBuffer(o.value) && Object.keys(o).length === 2) {
    return { '@type': o.type_url, ...decodeAny({ type_url: o.type_url, value: o.value }) };
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = expandAnys(x);
  return out;
}

/**
 * Name of an encoded Listener/RouteConfiguration/Cluster/ClusterLoadAssignment: field 1 is
 * the name (cluster_name for a CLA) in all four. Protobuf writes fields in number order, so
 * it is the first field; reading it avoids decoding thousands of resources in the benchmark.
 */
function nameOnTheWire(bytes: Buffer): string | undefined {
  if (bytes.length < 2 || bytes[0] !== 0x0a) return undefined;
  let len = 0;
  let shift = 0;
  let i = 1;
  for (; i < bytes.length && i < 6; i++) {
    const b = bytes[i]!;
    len |= (b & 0x7f) << shift;
    shift += 7;
    if ((b & 0x80) === 0) break;
  }
  i++;
  if (i + len > bytes.length) return undefined;
  return bytes.toString('utf8', i, i + len);
}

export class HeldResource {
  private decoded: Record<string, unknown> | undefined;
  private sha: string | undefined;

  constructor(
    readonly type: ResourceType,
    readonly name: string,
    /** The encoded resource exactly as received. */
    readonly bytes: Buffer,
    /** Delta: the resource's version; SotW: ''. */
    readonly version = '',
  ) {}

  /** A SotW resource (an Any), named like Envoy names it. */
  static fromAny(type: ResourceType, any: { type_url: string; value: Buffer }): HeldResource {
    const bytes = any.value;
    let name = nameOnTheWire(bytes);
    if (name === undefined) {
      const d = decodeMessage<{ name?: string; cluster_name?: string }>(fullNameOfTypeUrl(any.type_url), bytes);
      name = (type === 'endpoint' ? d.cluster_name : d.name) ?? '';
    }
    return new HeldResource(type, name, bytes);
  }

  /** The resource decoded, with every nested Any expanded (`'@type'` plus its fields). */
  get body(): Record<string, unknown> {
    this.decoded ??= decodeAny({ type_url: TYPE_URLS[this.type], value: this.bytes });
    return this.decoded;
  }

  /** sha1 of the bytes: identical bytes, identical state. */
  get hash(): string {
    this.sha ??= createHash('sha1').update(this.bytes).digest('hex');
    return this.sha;
  }

  /** The bytes as the proto-loader object of its type (nested Anys left as bytes). */
  decode<T>(): T {
    return decodeMessage<T>(fullNameOfTypeUrl(TYPE_URLS[this.type]), this.bytes);
  }
}

/** Route configuration names a listener refers to (its HCM's rds.route_config_name). */
export function routeConfigNames(listeners: Iterable<HeldResource>): string[] {
  const names = new Set<string>();
  for (const l of listeners) {
    const m = /"route_config_name":"([^"]+)"/.exec(JSON.stringify(l.body));
    if (m) names.add(m[1]!);
  }
  return [...names].sort();
}
