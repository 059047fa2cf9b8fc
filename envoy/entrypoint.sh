#!/bin/sh
# Resolve statsd-listener to an IP (Envoy's statsd sink rejects host names) and start Envoy.
set -eu
ip=$(getent hosts "${STATSD_HOST:-statsd-listener}" | awk '{print $1; exit}')
[ -n "$ip" ] || { echo "entrypoint: cannot resolve ${STATSD_HOST:-statsd-listener}" >&2; exit 1; }
sed "s/__STATSD_IP__/$ip/" /etc/envoy/envoy.yaml > /tmp/envoy.yaml
exec envoy -c /tmp/envoy.yaml --log-level "${ENVOY_LOG_LEVEL:-info}" "$@"
