#!/usr/bin/env bash
# Builds every image docker-compose.offline.yml uses, with no container registry and no network
# inside `docker build`: TypeScript is built on the host, the checkout (dist + node_modules) is
# staged in .faas/offline-context, and images are built FROM local bases:
#   faas-debian-base:local      scripts/make-debian-root.sh (debootstrap: nginx+Lua, Redis, node)
#   faas-node-base:local        scripts/make-base-image.sh (function containers)
#   faas-platform-offline:local Dockerfile, target prebuilt (xds-server, redis-rest, statsd, orchestrator)
#   faas-gateway-debian:local   gateway-openresty/Dockerfile, target debian
#   faas-envoy-standin:local    envoy-standin/Dockerfile
# Each image is labelled with a hash of its inputs and skipped when unchanged.
# Also creates the shared secret .faas/internal-token if missing.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { echo "make-offline-images: $*"; }
die() { echo "make-offline-images: ERROR: $*" >&2; exit 1; }
docker info >/dev/null 2>&1 || die "docker daemon not reachable (is dockerd running? try: docker info)"

mkdir -p .faas && chmod 700 .faas
if [ ! -s .faas/internal-token ]; then
  # Readable inside the containers (bind-mounted); .faas itself is 0700 on the host.
  (umask 022; node -e "process.stdout.write(require('crypto').randomBytes(32).toString('hex'))" > .faas/internal-token)
  say "created the shared secret .faas/internal-token"
fi

bash scripts/make-debian-root.sh
bash scripts/make-base-image.sh
say "building TypeScript on the host"
npx tsc -b

ctx=.faas/offline-context
rm -rf "$ctx" && mkdir -p "$ctx"
tar -C "$root" --exclude=./.git --exclude=./.faas --exclude=./.stack --exclude=./.bench --exclude=./tmp \
  --exclude=./.dockerignore --exclude='*.tsbuildinfo' --exclude='*.secret' -cf - . | tar -C "$ctx" -xf -
base_id="$(docker image inspect --format '{{.Id}}' faas-debian-base:local)"
ctx_hash="$( (cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum; echo "$base_id") | sha256sum | cut -d' ' -f1)"

build() { # build IMAGE DOCKERFILE [TARGET]
  local image=$1 file=$2 target=${3:-} want have
  want="$( (echo "$ctx_hash"; sha256sum "$file") | sha256sum | cut -d' ' -f1)"
  have="$(docker image inspect --format '{{index .Config.Labels "faas.offline.inputs"}}' "$image" 2>/dev/null || true)"
  if [ "$have" = "$want" ]; then say "$image is up to date"; return; fi
  say "building $image"
  docker build -q -f "$ctx/$file" ${target:+--target "$target"} --label "faas.offline.inputs=$want" \
    --build-arg BASE_IMAGE=faas-debian-base:local --build-arg DEBIAN_IMAGE=faas-debian-base:local \
    -t "$image" "$ctx" >/dev/null || die "docker build of $image failed"
}
build faas-platform-offline:local Dockerfile prebuilt
build faas-gateway-debian:local gateway-openresty/Dockerfile debian
build faas-envoy-standin:local envoy-standin/Dockerfile
say "done"
