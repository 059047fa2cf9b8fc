#!/usr/bin/env bash
# Builds the local function base image (default faas-node-base:local) from this host's node
# binary, with no registry: a minimal rootfs (node, sleep for network sandboxes, the shared
# libraries ldd lists, passwd/group with user faas uid 10001, /tmp 1777) packed with tar and
# loaded with `docker import`.
#
# Idempotent: the image carries the label faas.base.node-sha256 (hash of the node binary plus
# this recipe's version); if it matches, nothing is done. Rebuilds when node changes.
#
# Usage: scripts/make-base-image.sh [--force] [--image NAME:TAG]
#   env FAAS_BASE_IMAGE overrides the default image name.
set -euo pipefail

RECIPE_VERSION=2
IMAGE="${FAAS_BASE_IMAGE:-faas-node-base:local}"
FORCE=0
LABEL=faas.base.node-sha256

while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --image) shift; IMAGE="${1:?--image needs NAME:TAG}" ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "make-base-image: unknown argument: $1 (use --force, --image NAME:TAG)" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "make-base-image: $*"; }
die() { echo "make-base-image: ERROR: $*" >&2; exit 1; }

command -v docker >/dev/null 2>&1 || die "docker CLI not found in PATH"
docker info >/dev/null 2>&1 || die "docker daemon not reachable (is dockerd running? try: docker info)"
NODE_LINK="$(command -v node)" || die "node not found in PATH"
NODE_BIN="$(readlink -f "$NODE_LINK")"
[ -x "$NODE_BIN" ] || die "node binary $NODE_BIN is not executable"

WANT="$( (sha256sum "$NODE_BIN" | cut -d' ' -f1; echo "recipe-$RECIPE_VERSION") | sha256sum | cut -d' ' -f1)"
OLD_ID="$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
if [ -n "$OLD_ID" ] && [ "$FORCE" = 0 ]; then
  HAVE="$(docker image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$IMAGE" 2>/dev/null || true)"
  if [ "$HAVE" = "$WANT" ]; then
    say "$IMAGE is up to date (node $("$NODE_BIN" --version), $LABEL=${WANT:0:12}); nothing to do"
    exit 0
  fi
  say "$IMAGE exists but was made from another node binary or recipe (label '${HAVE:0:12}' != '${WANT:0:12}'): rebuilding"
fi

ROOT="$(mktemp -d /tmp/faas-base-rootfs.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT

mkdir -p "$ROOT/usr/local/bin" "$ROOT/etc" "$ROOT/tmp" "$ROOT/home/faas"
cp "$NODE_BIN" "$ROOT/usr/local/bin/node"
chmod 0755 "$ROOT/usr/local/bin/node"

# Every library ldd resolves (absolute paths only; linux-vdso has none), copied to the same
# path, dereferenced; includes the ELF interpreter (/lib64/ld-linux-*.so.*).
# `sleep` is the whole process of a network sandbox (orchestrator/src/network-sandboxes.ts).
SLEEP_BIN="$(readlink -f "$(command -v sleep)")" || die "sleep not found in PATH"
cp "$SLEEP_BIN" "$ROOT/usr/local/bin/sleep"
chmod 0755 "$ROOT/usr/local/bin/sleep"

LIBS="$( (ldd "$NODE_BIN"; ldd "$SLEEP_BIN") | grep -o '/[^ )]*' | sort -u)"
[ -n "$LIBS" ] || die "ldd listed no libraries for $NODE_BIN (static binary?)"
for lib in $LIBS; do
  [ -e "$lib" ] || die "library $lib listed by ldd does not exist"
  mkdir -p "$ROOT$(dirname "$lib")"
  cp -L "$lib" "$ROOT$lib"
done

cat >"$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
faas:x:10001:10001:faas function:/home/faas:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
cat >"$ROOT/etc/group" <<'EOF'
root:x:0:
faas:x:10001:
nogroup:x:65534:
EOF
chmod 1777 "$ROOT/tmp"
chmod 0755 "$ROOT/home/faas"

say "building $IMAGE from $NODE_BIN ($("$NODE_BIN" --version)), $(echo "$LIBS" | wc -l) libraries"
# Fixed owners, order and mtimes so the same inputs give the same layer.
NEW_ID="$(tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$ROOT" -c . \
  | docker import \
      -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
      -c "LABEL $LABEL=$WANT" \
      -c 'WORKDIR /tmp' \
      -m "faas node base from $NODE_BIN" - "$IMAGE")"
# Everything is owned by root and only readable by uid 10001: functions run with a read-only
# root fs (the orchestrator mounts a tmpfs on /tmp), so nothing in the image needs to be writable.

# Smoke test under the same restrictions the orchestrator uses.
OUT="$(docker run --rm --read-only --cap-drop ALL --security-opt no-new-privileges --user 10001:10001 \
  --network none "$IMAGE" node -e 'process.stdout.write(process.version)' 2>&1)" \
  || die "the new image cannot run node: $OUT"
say "built $IMAGE (${NEW_ID:7:12}); node $OUT runs as uid 10001 on a read-only root fs"

if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$NEW_ID" ]; then
  if docker image rm "$OLD_ID" >/dev/null 2>&1; then say "removed the previous image ${OLD_ID:7:12}"; else say "kept the previous image ${OLD_ID:7:12} (still in use or tagged elsewhere)"; fi
fi
