"""One JSON object per event on stdout (flushed: the platform reads it line by line)."""
import datetime
import json
import sys
import threading
import traceback

_ORDER = {"debug": 10, "info": 20, "warn": 30, "error": 40}
_lock = threading.Lock()


def _plain(v):
    if isinstance(v, BaseException):
        stack = "".join(traceback.format_exception(type(v), v, v.__traceback__))
        return {"name": type(v).__name__, "message": str(v), "stack": stack}
    return v


class Logger:
    def __init__(self, base, level="info"):
        self.base = dict(base)
        self.min = _ORDER.get(level, 20)

    def _emit(self, level, event, fields):
        if _ORDER[level] < self.min:
            return
        rec = {"ts": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
               "level": level, "component": "runtime-python", "event": event, **self.base}
        for k, v in (fields or {}).items():
            rec[k] = _plain(v)
        line = json.dumps(rec, default=str)
        with _lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def debug(self, event, **f):
        self._emit("debug", event, f)

    def info(self, event, **f):
        self._emit("info", event, f)

    def warn(self, event, **f):
        self._emit("warn", event, f)

    def error(self, event, **f):
        self._emit("error", event, f)
