#!/usr/bin/env bash
# npm run stack: the whole platform natively on loopback, in the foreground.
# Gateway: http://127.0.0.1:8080/<fn>. Ctrl-C stops everything and removes function containers.
# Exit status: 0 after a stop on request (Ctrl-C, SIGTERM), the launcher's non-zero status otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# Per run: labels this run's containers, so clean-up (and a second stack) never touch another run's.
export FAAS_RUN_ID="${FAAS_RUN_ID:-$(date +%s)-$$}"
source "$root/scripts/prereqs.sh"
trap 'bash "$root/scripts/cleanup.sh"' EXIT
node "$root/native-stack/dist/src/main.js" &
child=$!
trap 'kill -TERM $child 2>/dev/null || true' INT TERM
status=0
wait $child || status=$?
# A trapped signal interrupts wait (status > 128) while the launcher is still stopping: wait
# for its own exit status.
while kill -0 $child 2>/dev/null; do
  status=0
  wait $child || status=$?
done
exit $status
