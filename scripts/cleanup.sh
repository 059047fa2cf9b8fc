#!/usr/bin/env bash
# Stops what prereqs.sh started (it never stops a dockerd it found running).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case " ${PREREQS_STARTED:-} " in
  *" dockerd "*)
    if [ -f "$root/.stack/dockerd.pid" ]; then
      pid=$(cat "$root/.stack/dockerd.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      rm -f "$root/.stack/dockerd.pid"
    fi
    ;;
esac
