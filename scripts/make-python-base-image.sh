#!/usr/bin/env bash
# Builds the local Python function base image (default faas-python-base:local) from this host's
# python3 (3.11), with no registry: the interpreter, its standard library (without tests, IDLE,
# tkinter), the shared libraries ldd lists for the interpreter and the stdlib's C modules,
# passwd/group with user faas uid 10001, /tmp 1777; packed with tar, loaded with `docker import`.
# The user's default remains the official python:3.11-slim image.
#
# Idempotent: the label faas.base.python-sha256 hashes the interpreter, the stdlib file list and
# this recipe's version; if it matches, nothing is done.
#
# Usage: scripts/make-python-base-image.sh [--force]
#   env FAAS_PYTHON_BASE_IMAGE overrides the default image name, FAAS_PYTHON the interpreter.
set -euo pipefail

RECIPE_VERSION=2
IMAGE="${FAAS_PYTHON_BASE_IMAGE:-faas-python-base:local}"
LABEL=faas.base.python-sha256
say() { echo "make-python-base-image: $*"; }
die() { echo "make-python-base-image: ERROR: $*" >&2; exit 1; }

FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown argument: $arg (use --force; FAAS_PYTHON_BASE_IMAGE names the image)" ;;
  esac
done

command -v docker >/dev/null 2>&1 || die "docker CLI not found in PATH"
docker info >/dev/null 2>&1 || die "docker daemon not reachable (is dockerd running? try: docker info)"
PY_BIN="$(readlink -f "${FAAS_PYTHON:-/usr/bin/python3}")"
[ -x "$PY_BIN" ] || die "python interpreter $PY_BIN is not executable"
PY_VER="$("$PY_BIN" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
[ "$PY_VER" = 3.11 ] || die "$PY_BIN is Python $PY_VER; the runtime needs 3.11"
STDLIB="$("$PY_BIN" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')"
[ -d "$STDLIB/lib-dynload" ] || die "no lib-dynload under $STDLIB"
SKIP='/(test|idlelib|tkinter|turtledemo|lib2to3|ensurepip|__pycache__)(/|$)'

WANT="$( (sha256sum "$PY_BIN" | cut -d' ' -f1; find "$STDLIB" -type f | grep -Ev "$SKIP" | sort | sha256sum; echo "recipe-$RECIPE_VERSION") | sha256sum | cut -d' ' -f1)"
OLD_ID="$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
if [ -n "$OLD_ID" ] && [ "$FORCE" = 0 ]; then
  HAVE="$(docker image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$IMAGE" 2>/dev/null || true)"
  if [ "$HAVE" = "$WANT" ]; then say "$IMAGE is up to date ($LABEL=${WANT:0:12}); nothing to do"; exit 0; fi
  say "$IMAGE was made from another interpreter or recipe: rebuilding"
fi

ROOT="$(mktemp -d /tmp/faas-python-rootfs.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/usr/local/bin" "$ROOT/etc" "$ROOT/tmp" "$ROOT/home/faas"
cp "$PY_BIN" "$ROOT/usr/local/bin/python3"
ln -s python3 "$ROOT/usr/local/bin/python"
# The interpreter finds its stdlib from its own prefix: keep the host's layout.
(cd / && find "${STDLIB#/}" -type f -o -type l | grep -Ev "$SKIP" | tar -c -T - -f -) | tar -x -C "$ROOT" -f -
mkdir -p "$ROOT$(dirname "$STDLIB")"

# Libraries of the interpreter and of every C module of the stdlib, at the same paths.
LIBS="$( { ldd "$PY_BIN"; for so in "$STDLIB"/lib-dynload/*.so; do ldd "$so"; done; } 2>/dev/null | grep -o '/[^ )]*' | sort -u)"
for lib in $LIBS; do
  [ -e "$lib" ] || continue
  mkdir -p "$ROOT$(dirname "$lib")"
  cp -L "$lib" "$ROOT$lib"
done

# Bytecode for the standard library, as the official image ships it: function containers run
# on a read-only root, so without it every import compiles at each cold start (about 0.7 s).
# unchecked-hash: the image's files get mtime 0 (reproducible tar below), which would make
# timestamp-checked .pyc files look stale; -s strips the build root from the recorded paths.
"$PY_BIN" -m compileall -q -j 0 -s "$ROOT" --invalidation-mode unchecked-hash "$ROOT$STDLIB" >/dev/null \
  || die "compileall of the standard library failed"

printf 'root:x:0:0:root:/root:/sbin/nologin\nfaas:x:10001:10001:faas function:/home/faas:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nfaas:x:10001:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
chmod 1777 "$ROOT/tmp"

say "building $IMAGE from $PY_BIN (Python $PY_VER), $(echo "$LIBS" | wc -l) libraries"
NEW_ID="$(tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$ROOT" -c . \
  | docker import \
      -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
      -c 'ENV PYTHONDONTWRITEBYTECODE=1' \
      -c "LABEL $LABEL=$WANT" \
      -c 'WORKDIR /tmp' \
      -m "faas python base from $PY_BIN" - "$IMAGE")"

# Smoke test under the orchestrator's restrictions, with the modules the runtime imports.
OUT="$(docker run --rm --read-only --cap-drop ALL --security-opt no-new-privileges --user 10001:10001 --network none "$IMAGE" \
  python3 -c 'import http.server, json, asyncio, ssl, hashlib, importlib.util, platform; print(platform.python_version())' 2>&1)" \
  || die "the new image cannot run the runtime's imports: $OUT"
say "built $IMAGE (${NEW_ID:7:12}); Python $OUT runs as uid 10001 on a read-only root fs"

if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$NEW_ID" ]; then
  if docker image rm "$OLD_ID" >/dev/null 2>&1; then say "removed the previous image ${OLD_ID:7:12}"; else say "kept the previous image ${OLD_ID:7:12} (still in use or tagged elsewhere)"; fi
fi
