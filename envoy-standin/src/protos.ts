/**
 * Envoy's v3 protos, loaded with @grpc/proto-loader from the copy shipped in
 * @grpc/grpc-js-xds. `json: true` makes protobufjs decode every google.protobuf.Any whose
 * type is loaded into `{'@type': url, ...fields}`; an Any of a type not loaded stays
 * `{type_url, value}`, which is how the stand-in spots resources it cannot decode.
 */
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { XDS_RESOURCE_TYPE_URLS } from '@faas/contracts';

export const TYPE_URLS = XDS_RESOURCE_TYPE_URLS;

export type XdsKind = keyof typeof TYPE_URLS;
export const XDS_KINDS: readonly XdsKind[] = ['cluster', 'endpoint', 'listener', 'route'];

export function kindOfTypeUrl(url: string): XdsKind | undefined {
  for (const k of XDS_KINDS) if (TYPE_URLS[k] === url) return k;
  return undefined;
}

// Deliberately not xds-server's PROTO_FILES: the stand-in is an independent decoder, so a
// resource whose type only the server loads shows up as a NACK, as it would in Envoy.
const PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/load_balancing_policies/least_request/v3/least_request.proto',
  'envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto',
  'envoy/extensions/load_balancing_policies/random/v3/random.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
];

/** Loose shape of a decoded protobuf message (fields read defensively by the decoders). */
export type ProtoObject = Record<string, unknown>;

export interface DiscoveryRequest {
  version_info?: string;
  node?: ProtoObject;
  resource_names?: string[];
  type_url: string;
  response_nonce?: string;
  error_detail?: { code: number; message: string };
}

export interface DiscoveryResponse {
  version_info: string;
  resources: ProtoObject[];
  type_url: string;
  nonce: string;
}

export interface DeltaDiscoveryRequest {
  node?: ProtoObject;
  type_url: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: { code: number; message: string };
}

export interface DeltaResource {
  name: string;
  version: string;
  resource: ProtoObject | null;
}

export interface DeltaDiscoveryResponse {
  system_version_info: string;
  resources: DeltaResource[];
  type_url: string;
  removed_resources: string[];
  nonce: string;
}

export interface AdsGrpcClient extends grpc.Client {
  StreamAggregatedResources(): grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  DeltaAggregatedResources(): grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
}

export interface AdsGrpcClientConstructor {
  new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions): AdsGrpcClient;
  service: grpc.ServiceDefinition;
}

let cached: { ads: AdsGrpcClientConstructor; definition: protoLoader.PackageDefinition } | undefined;

/** Load once per process (about 0.4 s). */
export function loadEnvoyProtos(): { ads: AdsGrpcClientConstructor; definition: protoLoader.PackageDefinition } {
  if (cached) return cached;
  const base = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const includeDirs = ['deps/envoy-api', 'deps/xds', 'deps/googleapis', 'deps/protoc-gen-validate'].map((d) => path.join(base, d));
  const definition = protoLoader.loadSync(PROTO_FILES, {
    keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, json: true, includeDirs,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: AdsGrpcClientConstructor } } } };
  };
  cached = { ads: pkg.envoy.service.discovery.v3.AggregatedDiscoveryService, definition };
  return cached;
}
