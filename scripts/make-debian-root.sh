#!/usr/bin/env bash
# Builds the local Debian base image for the compose stack (default faas-debian-base:local) with
# no container registry: a debootstrap root (Debian's mirrors are reachable, registries are not)
# carrying nginx-light + the Lua module + lua-cjson + lua-resty-core, Redis, and this host's node
# binary, imported with `docker import`. Users: node (1000), faas (10001).
#
# Idempotent: the image carries the label faas.base.debian-sha256 (hash of this script and the
# node binary); if it matches, nothing is done. The debootstrap root itself is cached as a tarball
# in .faas/cache/ under the same hash, so a rebuilt image does not download again.
#
# Usage: scripts/make-debian-root.sh [--force]   env: FAAS_DEBIAN_IMAGE, DEBIAN_MIRROR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGE="${FAAS_DEBIAN_IMAGE:-faas-debian-base:local}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
LABEL=faas.base.debian-sha256
PKGS=nginx-light,libnginx-mod-http-lua,lua-cjson,lua-resty-core,redis-server,ca-certificates
FORCE=0; [ "${1:-}" = --force ] && FORCE=1

say() { echo "make-debian-root: $*"; }
die() { echo "make-debian-root: ERROR: $*" >&2; exit 1; }
docker info >/dev/null 2>&1 || die "docker daemon not reachable (is dockerd running? try: docker info)"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found (apt-get install -y debootstrap)"
[ "$(id -u)" = 0 ] || die "debootstrap needs root"
NODE_BIN="$(readlink -f "$(command -v node)")" || die "node not found in PATH"

WANT="$( (sha256sum "$0" "$NODE_BIN" | cut -d' ' -f1; echo "$PKGS") | sha256sum | cut -d' ' -f1)"
HAVE="$(docker image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$IMAGE" 2>/dev/null || true)"
if [ "$FORCE" = 0 ] && [ "$HAVE" = "$WANT" ]; then say "$IMAGE is up to date (${WANT:0:12}); nothing to do"; exit 0; fi

cache="$root/.faas/cache"; mkdir -p "$cache"
tarball="$cache/debian-root-${WANT:0:16}.tar"
if [ ! -s "$tarball" ] || [ "$FORCE" = 1 ]; then
  ROOT="$(mktemp -d /tmp/faas-debian-root.XXXXXX)"
  trap 'rm -rf "$ROOT"' EXIT
  say "debootstrap bookworm (minbase + $PKGS) into $ROOT"
  debootstrap --variant=minbase --include="$PKGS" bookworm "$ROOT" "$MIRROR" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; die "debootstrap failed; see $cache/debootstrap.log"; }
  install -m 0755 "$NODE_BIN" "$ROOT/usr/local/bin/node"
  # Every library node needs must exist in the root (same Debian release, so normally all do).
  for lib in $(ldd "$NODE_BIN" | grep -o '/[^ )]*' | sort -u); do
    [ -e "$ROOT$lib" ] || { mkdir -p "$ROOT$(dirname "$lib")"; cp -L "$lib" "$ROOT$lib"; }
  done
  chroot "$ROOT" /usr/local/bin/node -e 'process.exit(0)' || die "node does not run inside the Debian root"
  chroot "$ROOT" sh -c 'groupadd -g 1000 node && useradd -u 1000 -g 1000 -m -s /bin/sh node &&
    groupadd -g 10001 faas && useradd -u 10001 -g 10001 -M -d /tmp -s /usr/sbin/nologin faas'
  rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/etc/nginx/sites-enabled/*
  rm -f "$cache"/debian-root-*.tar
  tar --numeric-owner -C "$ROOT" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
fi
say "importing $IMAGE from $tarball"
docker import -c 'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c "LABEL $LABEL=$WANT" \
  -m "faas Debian base (nginx+lua, redis, node)" "$tarball" "$IMAGE" >/dev/null
docker run --rm "$IMAGE" sh -c 'node --version && nginx -v 2>&1 && redis-server --version' | sed 's/^/make-debian-root: /'
