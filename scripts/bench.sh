#!/usr/bin/env bash
# npm run bench: cold-start phases and warm overhead (native stack), wakes from each warm tier
# next to Docker's floor, then the xDS benchmark.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/prereqs.sh"
trap 'bash "$root/scripts/cleanup.sh"' EXIT
node "$root/native-stack/dist/bench/cold-warm.js"
node "$root/native-stack/dist/bench/warm-tiers.js"
if [ -f "$root/xds-server/dist/bench/xds-bench.js" ]; then node "$root/xds-server/dist/bench/xds-bench.js"; fi
