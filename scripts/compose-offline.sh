#!/usr/bin/env bash
# `npm run compose`: build the local images (scripts/make-offline-images.sh), then run the compose
# stack with docker-compose.offline.yml, on a machine without the public images.
# Extra arguments go to `up` (e.g. -d). Uses `docker compose` (v2) if present, else docker-compose.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/make-offline-images.sh
if docker compose version >/dev/null 2>&1; then dc=(docker compose); else dc=(docker-compose); fi
exec "${dc[@]}" -f docker-compose.yml -f docker-compose.offline.yml up --no-build "$@"
