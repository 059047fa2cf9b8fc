/**
 * Reading Envoy's bootstrap (envoy/envoy.yaml): only what the stand-in needs, validated
 * with errors that name the field. Pure parse (text in) plus the file edge.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { parseDocument } from 'yaml';
import { BootstrapError } from './errors';

export type AdsProtocol = 'sotw' | 'delta';

export interface HostPort {
  host: string;
  port: number;
}

export interface StandinBootstrap {
  nodeId: string;
  nodeCluster: string;
  /** ADS server from the static cluster named by ads_config. */
  xds: HostPort;
  protocol: AdsProtocol;
  /** Statsd sink, or undefined when the bootstrap has none. Host may still be a placeholder. */
  statsd: (HostPort & { prefix: string }) | undefined;
  flushIntervalMs: number;
}

export interface BootstrapOverrides {
  /** "host:port" of the xDS server. */
  xdsAddress?: string;
  /** "ip:port" of the statsd sink. */
  statsdAddress?: string;
  nodeId?: string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, field: string, file: string): Obj {
  if (!isObj(v)) throw new BootstrapError(`${file}: field "${field}" must be a map`, { field, file });
  return v;
}

function str(v: unknown, field: string, file: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new BootstrapError(`${file}: field "${field}" must be a non-empty string`, { field, file });
  return v;
}

function port(v: unknown, field: string, file: string): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new BootstrapError(`${file}: field "${field}" must be a port number from 1 to 65535`, { field, file, value: v });
  }
  return n;
}

/** Protobuf JSON duration ("1s", "0.5s"); also "250ms" for convenience. */
export function parseProtoDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(s|ms)$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 's' ? Math.round(n * 1000) : Math.round(n);
}

/** Parse "host:port" (IPv6 as "[::1]:port"). */
export function parseHostPort(text: string, what: string): HostPort {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const p = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || !Number.isInteger(p) || p < 1 || p > 65535) {
    throw new BootstrapError(`${what} "${text}" must look like host:port`, { what, value: text });
  }
  return { host: m[1], port: p };
}

export function parseBootstrap(text: string, file: string): StandinBootstrap {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new BootstrapError(`${file}: YAML: ${doc.errors[0]?.message.split('\n')[0] ?? 'parse error'}`, { file });
  const root = obj(doc.toJS(), '(document)', file);
  const node = obj(root.node, 'node', file);
  const nodeId = str(node.id, 'node.id', file);
  const nodeCluster = str(node.cluster, 'node.cluster', file);

  const ads = obj(obj(root.dynamic_resources, 'dynamic_resources', file).ads_config, 'dynamic_resources.ads_config', file);
  const apiType = str(ads.api_type, 'dynamic_resources.ads_config.api_type', file);
  if (apiType !== 'GRPC' && apiType !== 'DELTA_GRPC') {
    throw new BootstrapError(`${file}: field "dynamic_resources.ads_config.api_type" must be GRPC or DELTA_GRPC, got ${JSON.stringify(apiType)}`, { file });
  }
  const services = ads.grpc_services;
  if (!Array.isArray(services) || services.length === 0) {
    throw new BootstrapError(`${file}: field "dynamic_resources.ads_config.grpc_services" must be a non-empty list`, { file });
  }
  const envoyGrpc = obj(obj(services[0], 'dynamic_resources.ads_config.grpc_services[0]', file).envoy_grpc, 'dynamic_resources.ads_config.grpc_services[0].envoy_grpc', file);
  const xdsClusterName = str(envoyGrpc.cluster_name, 'dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name', file);

  const clusters = obj(root.static_resources, 'static_resources', file).clusters;
  if (!Array.isArray(clusters)) throw new BootstrapError(`${file}: field "static_resources.clusters" must be a list`, { file });
  const idx = clusters.findIndex((c) => isObj(c) && c.name === xdsClusterName);
  if (idx < 0) throw new BootstrapError(`${file}: no static_resources.clusters entry named "${xdsClusterName}" (named by ads_config)`, { file });
  const f = `static_resources.clusters[${idx}].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address`;
  const la = obj(obj(clusters[idx], `static_resources.clusters[${idx}]`, file).load_assignment, `static_resources.clusters[${idx}].load_assignment`, file);
  const eps = la.endpoints;
  const lbs = Array.isArray(eps) && isObj(eps[0]) ? eps[0].lb_endpoints : undefined;
  const lb0 = Array.isArray(lbs) ? lbs[0] : undefined;
  const sock = isObj(lb0) && isObj(lb0.endpoint) && isObj(lb0.endpoint.address) ? lb0.endpoint.address.socket_address : undefined;
  const xsock = obj(sock, f, file);
  const xds = { host: str(xsock.address, `${f}.address`, file), port: port(xsock.port_value, `${f}.port_value`, file) };

  let statsd: StandinBootstrap['statsd'];
  if (root.stats_sinks !== undefined) {
    if (!Array.isArray(root.stats_sinks)) throw new BootstrapError(`${file}: field "stats_sinks" must be a list`, { file });
    const i = root.stats_sinks.findIndex((s) => isObj(s) && isObj(s.typed_config) && String(s.typed_config['@type']).endsWith('envoy.config.metrics.v3.StatsdSink'));
    if (i >= 0) {
      const base = `stats_sinks[${i}].typed_config`;
      const tc = obj((root.stats_sinks[i] as Obj).typed_config, base, file);
      const s = obj(obj(tc.address, `${base}.address`, file).socket_address, `${base}.address.socket_address`, file);
      const prefix = tc.prefix === undefined ? 'envoy' : str(tc.prefix, `${base}.prefix`, file);
      statsd = { host: str(s.address, `${base}.address.socket_address.address`, file), port: port(s.port_value, `${base}.address.socket_address.port_value`, file), prefix };
    }
  }

  let flushIntervalMs = 5000; // Envoy's default
  if (root.stats_flush_interval !== undefined) {
    const ms = typeof root.stats_flush_interval === 'string' ? parseProtoDuration(root.stats_flush_interval) : undefined;
    if (ms === undefined || ms < 1 || ms > 300_000) {
      throw new BootstrapError(`${file}: field "stats_flush_interval" must be a duration such as "1s" between 1ms and 300s`, { file, value: root.stats_flush_interval });
    }
    flushIntervalMs = ms;
  }
  return { nodeId, nodeCluster, xds, protocol: apiType === 'GRPC' ? 'sotw' : 'delta', statsd, flushIntervalMs };
}

/** Apply the native stack's overrides, then insist on an IP literal for statsd (as Envoy does). */
export function applyOverrides(b: StandinBootstrap, o: BootstrapOverrides): StandinBootstrap {
  const out: StandinBootstrap = { ...b };
  if (o.nodeId !== undefined && o.nodeId !== '') out.nodeId = o.nodeId;
  if (o.xdsAddress !== undefined && o.xdsAddress !== '') out.xds = parseHostPort(o.xdsAddress, 'xdsAddress');
  if (o.statsdAddress !== undefined && o.statsdAddress !== '') {
    out.statsd = { ...parseHostPort(o.statsdAddress, 'statsdAddress'), prefix: b.statsd?.prefix ?? 'envoy' };
  }
  if (out.statsd !== undefined && net.isIP(out.statsd.host) === 0) {
    throw new BootstrapError(
      `statsd sink address "${out.statsd.host}" is not an IP literal (Envoy rejects names too); set statsdAddress / STANDIN_STATSD_ADDRESS to ip:port`,
      { value: out.statsd.host },
    );
  }
  return out;
}

export function loadBootstrap(file: string): StandinBootstrap {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new BootstrapError(`cannot read bootstrap ${file}: ${(err as Error).message}`, { file });
  }
  return parseBootstrap(text, file);
}
