#!/usr/bin/env bash
# npm test: installs/starts what is missing, builds, runs every test file with node --test,
# then stops what it started and checks that no function container was left behind.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/prereqs.sh"
trap 'bash "$root/scripts/cleanup.sh"' EXIT
cd "$root"
mapfile -t files < <(find . \( -path ./node_modules -o -path ./.faas -o -path ./.stack -o -path ./.load \) -prune -o -path '*/dist/test/*.test.js' -print | sort)
echo "[test] ${#files[@]} test files"
status=0
node --test --test-concurrency=1 "${files[@]}" || status=$?
left=$(docker ps -aq --filter label=faas.stack | wc -l)
if [ "$left" -gt 0 ]; then
  echo "[test] FAIL: $left function container(s) left behind:" >&2
  docker ps -a --filter label=faas.stack >&2
  docker ps -aq --filter label=faas.stack | xargs -r docker rm -f >/dev/null
  status=1
fi
exit $status
