/**
 * Envoy's v3 protos, loaded once from @grpc/grpc-js-xds's deps/ (the only npm package that
 * ships them). Every proto whose message goes into an Any is loaded here too: protobufjs
 * silently turns an Any of an unloaded type into an empty Any.
 */
import * as path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { XDS_RESOURCE_TYPE_URLS } from '@faas/contracts';
import type { ServiceDefinition } from '@grpc/grpc-js';

export const PROTO_INCLUDE_DIRS: readonly string[] = (() => {
  const base = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  return ['deps/envoy-api', 'deps/xds', 'deps/googleapis', 'deps/protoc-gen-validate'].map((d) => path.join(base, d));
})();

/** Root proto files: the ADS service plus every resource and extension type we emit. */
export const PROTO_FILES: readonly string[] = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/load_balancing_policies/least_request/v3/least_request.proto',
  'envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
];

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [...PROTO_INCLUDE_DIRS],
};

export const TYPE_URLS = {
  ...XDS_RESOURCE_TYPE_URLS,
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  leastRequest: 'type.googleapis.com/envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest',
  roundRobin: 'type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin',
  previousHosts: 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
  stdoutLog: 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
} as const;

/** The four resource types this server serves, in make-before-break send order. */
export const RESOURCE_TYPES = ['cluster', 'endpoint', 'listener', 'route'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export function resourceTypeOfUrl(url: string): ResourceType | undefined {
  for (const t of RESOURCE_TYPES) if (TYPE_URLS[t] === url) return t;
  return undefined;
}

let cached: protoLoader.PackageDefinition | undefined;

export function packageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync([...PROTO_FILES], PROTO_LOADER_OPTIONS);
  return cached;
}

export function adsServiceDefinition(): ServiceDefinition {
  const def = packageDefinition()['envoy.service.discovery.v3.AggregatedDiscoveryService'];
  return def as unknown as ServiceDefinition;
}

/**
 * The ADS service for the server side: responses may be given already encoded (a Buffer,
 * see response-bytes.ts) and are then sent as they are; objects are encoded as usual.
 */
export function adsServerServiceDefinition(): ServiceDefinition {
  const def = adsServiceDefinition();
  const out: Record<string, unknown> = {};
  for (const [name, m] of Object.entries(def)) {
    const serialize = m.responseSerialize as (v: unknown) => Buffer;
    out[name] = { ...m, responseSerialize: (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : serialize(v)) };
  }
  return out as ServiceDefinition;
}

/** Encode one message of a loaded type (e.g. a resource, to pack it into an Any once). */
export function encodeMessage(fullName: string, message: object): Buffer {
  const def = packageDefinition()[fullName] as protoLoader.MessageTypeDefinition<object, object> | undefined;
  if (def === undefined || !('serialize' in def)) throw new Error(`proto type ${fullName} is not loaded`);
  return def.serialize(message);
}

export function decodeMessage<T>(fullName: string, bytes: Buffer): T {
  const def = packageDefinition()[fullName] as protoLoader.MessageTypeDefinition<object, object> | undefined;
  if (def === undefined || !('deserialize' in def)) throw new Error(`proto type ${fullName} is not loaded`);
  return def.deserialize(bytes) as T;
}

export function fullNameOfTypeUrl(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}
