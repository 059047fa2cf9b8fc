"""Entry point: python3 /opt/faas/runtime/server.py (this directory is copied into images as is)."""
from faas_runtime.server import main

if __name__ == "__main__":
    main()
