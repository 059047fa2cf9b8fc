"""Entry point: python3 /opt/faas/runtime/server.py (this directory is copied into images as is)."""
import os
import sys

# The runtime uses only the standard library. A function's requirements come in on PYTHONPATH
# (/opt/faas/deps), which Python puts before the standard library: moved behind it, so a package
# named like a stdlib module cannot replace what the runtime (or the stdlib itself) imports.
_deps = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
sys.path[:] = [p for p in sys.path if p not in _deps] + _deps

from faas_runtime.server import main  # noqa: E402

if __name__ == "__main__":
    main()
