#!/usr/bin/env bash
# Stops what prereqs.sh started (it never stops a dockerd it found running). Runs after the
# launcher has exited; dockerd goes last, once every function container of this stack run is
# gone (the launcher removes them on stop; what a crashed launcher left is removed here), so
# nothing survives into dockerd's next start.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case " ${PREREQS_STARTED:-} " in
  *" dockerd "*)
    # prereqs.sh names the file (a private dockerd on DOCKER_HOST keeps it beside its socket).
    pidfile="${PREREQS_DOCKERD_PIDFILE:-$root/.stack/dockerd.pid}"
    if [ -f "$pidfile" ]; then
      filters=(--filter "label=faas.stack=${FAAS_STACK:-default}")
      [ -n "${FAAS_RUN_ID:-}" ] && filters+=(--filter "label=faas.run=$FAAS_RUN_ID")
      left=$(docker ps -aq "${filters[@]}" 2>/dev/null)
      if [ -n "$left" ]; then
        echo "[cleanup] removing $(echo "$left" | wc -l) function container(s) the stack left" >&2
        echo "$left" | xargs -r docker rm -f >/dev/null
      fi
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && echo "[cleanup] dockerd (pid $pid) still running after 20 s" >&2
      rm -f "$pidfile"
    fi
    ;;
esac
