#!/usr/bin/env bash
# Regenerates src/generated (TypeScript types of Envoy's v3 protos) from @grpc/grpc-js-xds's
# deps/. The per-root aggregate files other than ads.ts are removed: unused, and they fail
# noUnusedLocals.
set -euo pipefail
cd "$(dirname "$0")/.."
B=../node_modules/@grpc/grpc-js-xds/deps
rm -rf src/generated
npx proto-loader-gen-types --keepCase --longs String --enums String --defaults --oneofs \
  --includeDirs $B/envoy-api $B/xds $B/googleapis $B/protoc-gen-validate \
  -O src/generated --grpcLib @grpc/grpc-js \
  envoy/service/discovery/v3/ads.proto envoy/config/listener/v3/listener.proto envoy/config/route/v3/route.proto \
  envoy/config/cluster/v3/cluster.proto envoy/config/endpoint/v3/endpoint.proto \
  envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto \
  envoy/extensions/filters/http/router/v3/router.proto \
  envoy/extensions/load_balancing_policies/least_request/v3/least_request.proto \
  envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto \
  envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto \
  envoy/extensions/access_loggers/stream/v3/stream.proto
for f in src/generated/*.ts; do [ "$(basename "$f")" = ads.ts ] || rm "$f"; done
