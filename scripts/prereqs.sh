#!/usr/bin/env bash
# Installs and starts what the platform and its tests need on a Debian 12 machine, only when
# missing: Debian packages (Docker engine, Redis, nginx with the Lua module, python3-grpcio, python3-pip,
# debootstrap),
# npm dependencies, a running dockerd, the TypeScript build and the local base image.
# Sourced by stack.sh and test.sh; records what it started in PREREQS_STARTED for cleanup.
# DOCKER_HOST=unix:///some/private.sock (not the shared /var/run/docker.sock): when that socket does
# not answer, a dockerd of its own is started on it, with its state beside the socket (or in
# FAAS_DOCKERD_ROOT), FAAS_DOCKERD_BRIDGE as its bridge (required: it must not share docker0) and
# no iptables rules, so it never touches a dockerd already running on the machine.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Never inherited: a stack.sh run from inside npm test (or any child) must not stop the dockerd
# its parent started; each script records, and cleans up, only what it started itself.
PREREQS_STARTED=""
PREREQS_DOCKERD_PIDFILE=""

say() { printf '[prereqs] %s\n' "$*"; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v docker >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v redis-server >/dev/null 2>&1 || need_pkgs+=(redis-server)
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2) # the private-dockerd test makes its bridge with ip
command -v nginx >/dev/null 2>&1 || need_pkgs+=(nginx-light)
[ -f /usr/share/nginx/modules/ngx_http_lua_module.so ] || need_pkgs+=(libnginx-mod-http-lua)
[ -f /usr/share/lua/5.1/resty/core.lua ] || need_pkgs+=(lua-resty-core)
compgen -G '/usr/lib/*/lua/5.1/cjson.so' >/dev/null || need_pkgs+=(lua-cjson)
/usr/bin/python3 -c 'import grpc' >/dev/null 2>&1 || need_pkgs+=(python3-grpcio)
# pip (with setuptools, wheel) installs Python functions' requirements.txt at image build, on the host.
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || need_pkgs+=(python3-pip)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || need_pkgs+=(docker-compose)
# The offline compose images start from a debootstrap root (scripts/make-debian-root.sh; the compose e2e test).
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "installing Debian packages: ${need_pkgs[*]}"
  [ "$(id -u)" = 0 ] || { echo "[prereqs] need root to install ${need_pkgs[*]} (or install them yourself)" >&2; exit 1; }
  # Keep package scripts from starting system services (nginx on :80, redis on :6379):
  # the platform starts its own processes on loopback.
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [ -e "$policy" ] && had_policy=1
  [ $had_policy = 1 ] || { printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  [ $had_policy = 1 ] || rm -f "$policy"
fi

if ! docker info >/dev/null 2>&1; then
  dockerd_args=()
  dockerd_log="$root/.stack/dockerd.log"
  PREREQS_DOCKERD_PIDFILE="$root/.stack/dockerd.pid"
  mkdir -p "$root/.stack"
  case "${DOCKER_HOST:-}" in
    ""|unix:///var/run/docker.sock|unix:///run/docker.sock) ;;
    unix://*)
      sock="${DOCKER_HOST#unix://}"
      state="${FAAS_DOCKERD_ROOT:-$(dirname "$sock")}"
      dockerd_args=(-H "unix://$sock" --data-root "$state/data" --exec-root "$state/exec" --pidfile "$state/dockerd.pid" --iptables=false --ip-masq=false)
      # Its own bridge, or it would share docker0 (and its addresses) with the machine's dockerd.
      [ -n "${FAAS_DOCKERD_BRIDGE:-}" ] || { echo "[prereqs] DOCKER_HOST=$DOCKER_HOST does not answer; to start a dockerd there, name its own bridge in FAAS_DOCKERD_BRIDGE (e.g. ip link add name faas-br0 type bridge && ip addr add 10.250.0.1/24 dev faas-br0 && ip link set faas-br0 up)" >&2; exit 1; }
      dockerd_args+=(-b "$FAAS_DOCKERD_BRIDGE")
      mkdir -p "$state"
      dockerd_log="$state/dockerd.log"
      # Not dockerd's own --pidfile: dockerd refuses to start when that file names a live process.
      PREREQS_DOCKERD_PIDFILE="$state/started-dockerd.pid"
      ;;
    *) echo "[prereqs] DOCKER_HOST=$DOCKER_HOST does not answer; only a unix:// socket can be started here" >&2; exit 1 ;;
  esac
  say "starting dockerd${dockerd_args[*]:+ ${dockerd_args[*]}}"
  # Own session (setsid): the terminal's Ctrl-C never reaches dockerd; cleanup.sh stops it after
  # the stack has removed its function containers.
  setsid dockerd "${dockerd_args[@]}" >"$dockerd_log" 2>&1 </dev/null &
  echo $! >"$PREREQS_DOCKERD_PIDFILE"
  PREREQS_STARTED="$PREREQS_STARTED dockerd"
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "[prereqs] dockerd did not start; see $dockerd_log" >&2; tail -20 "$dockerd_log" >&2; exit 1; }
fi

cd "$root"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi
say "building TypeScript"
npx tsc -b
bash "$root/scripts/make-base-image.sh"
bash "$root/scripts/make-python-base-image.sh"
export PREREQS_STARTED PREREQS_DOCKERD_PIDFILE
