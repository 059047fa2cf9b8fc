#!/usr/bin/env bash
# npm run stack: the whole platform natively on loopback, in the foreground.
# Gateway: http://127.0.0.1:8080/<fn>. Ctrl-C stops everything and removes function containers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/prereqs.sh"
trap 'bash "$root/scripts/cleanup.sh"' EXIT
node "$root/native-stack/dist/src/main.js" &
child=$!
trap 'kill -TERM $child 2>/dev/null' INT TERM
wait $child || true
wait $child 2>/dev/null || true
