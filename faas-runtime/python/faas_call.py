"""call(name, args): a function calls another function through the platform (Funker's style).

    import faas_call
    faas_call.call("add", {"x": 1, "y": 2})   # -> 3

One file, standard library only: importable in every Python function (it sits in the runtime's
directory, which is on sys.path) and usable from the host by copying it. Inside a function,
`context.call(name, args)` and a plain `faas_call.call(...)` from the handler's thread both carry
the current request's id, remaining deadline and call depth. The entry is FAAS_CALL_URL
(`unix:/run/faas-call/gateway.sock` in the native stack, `http://gateway:8080` in compose),
else http://127.0.0.1:8080. The header names repeat contracts/src/call-api.ts (the Node
client's tests check both files against it).
"""
import http.client
import json
import os
import re
import socket
import threading
import time
import urllib.parse

CALL_URL_ENV = "FAAS_CALL_URL"
DEFAULT_CALL_URL = "http://127.0.0.1:8080"
REQUEST_ID_HEADER = "x-request-id"
DEPTH_HEADER = "x-faas-call-depth"
DEADLINE_HEADER = "x-faas-deadline-ms"
DEFAULT_TIMEOUT_MS = 300000
MAX_RESPONSE_BYTES = 64 * 1024 * 1024

# contracts' CLIENT_ERRORS codes: a JSON body with one of them is the platform's error.
PLATFORM_ERROR_CODES = frozenset((
    "invalid_request", "invalid_name", "unauthorized", "unknown_function", "not_found", "method_not_allowed",
    "body_too_large", "uri_too_long", "headers_too_large", "concurrency_limit", "handler_error", "internal_error",
    "instance_failed", "out_of_memory", "bad_gateway", "no_healthy_instance", "overloaded", "platform_unavailable",
    "draining", "shutting_down", "wake_timeout", "call_depth_exceeded", "function_timeout", "upstream_timeout",
))

_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
_INT = re.compile(r"[0-9]{1,9}")
_current = threading.local()


class CallError(Exception):
    """A failed call. `code` is the platform's error code (or upstream_timeout /
    platform_unavailable / bad_gateway when the client gave up, could not connect or could not
    read the answer), or "function_error" when the callee answered non-2xx itself (see `body`)."""

    def __init__(self, code, message, fn, status=None, request_id=None, body=None):
        super().__init__(message)
        self.code = code
        self.fn = fn
        self.status = status
        self.request_id = request_id
        self.body = body


class CallContext:
    """The request being served: its id, deadline (epoch ms) and call depth."""

    def __init__(self, request_id=None, deadline=None, depth=0):
        self.request_id = request_id
        self.deadline = deadline
        self.depth = depth

    @classmethod
    def from_headers(cls, headers, request_id, now_ms):
        """From a request's headers (a dict with lowercase names): absent or malformed values
        mean depth 0 and no deadline from the caller."""
        def num(name):
            v = headers.get(name)
            return int(v) if v is not None and _INT.fullmatch(v) else None
        remaining = num(DEADLINE_HEADER)
        return cls(request_id, None if remaining is None else now_ms + remaining, num(DEPTH_HEADER) or 0)

    def call(self, name, args=None, **options):
        options.setdefault("request_id", self.request_id)
        options.setdefault("deadline", self.deadline)
        options.setdefault("depth", self.depth)
        return call(name, args, **options)


def bind(ctx):
    """Makes ctx the current request of this thread (the runtime does this in the handler's thread)."""
    _current.ctx = ctx


def current():
    return getattr(_current, "ctx", None)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self._path)
        except OSError:
            s.close()
            raise
        self.sock = s


def _connection(url, timeout, fn):
    if url.startswith("unix:/"):
        return _UnixConnection(url[len("unix:"):], timeout), ""
    u = urllib.parse.urlsplit(url)
    if u.scheme != "http" or not u.hostname or u.query or u.fragment:
        raise CallError("invalid_request", f"{CALL_URL_ENV}={url!r} is neither unix:/<path> nor http://host:port", fn)
    return http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout), u.path.rstrip("/")


def _encode(args):
    if args is None:
        return None, None
    if isinstance(args, (bytes, bytearray)):
        return bytes(args), "application/octet-stream"
    if isinstance(args, str):
        return args.encode("utf-8"), "text/plain; charset=utf-8"
    return json.dumps(args).encode("utf-8"), "application/json"


def _decode(fn, status, content_type, data, request_id):
    ct = (content_type or "").lower()
    if re.match(r"application/([a-z.+-]*\+)?json\b", ct):
        if not data:
            return None
        try:
            return json.loads(data)
        except ValueError as err:
            raise CallError("bad_gateway", f"call to {fn}: the answer says JSON but is not", fn, status, request_id) from err
    if ct.startswith("text/"):
        return data.decode("utf-8", "replace")
    return data


def _error_of(fn, status, body, request_id):
    if isinstance(body, dict) and body.get("error") in PLATFORM_ERROR_CODES and isinstance(body.get("message"), str):
        rid = body["requestId"] if isinstance(body.get("requestId"), str) else request_id
        return CallError(body["error"], f"call to {fn} failed: {body['error']}: {body['message']}", fn, status, rid, body)
    return CallError("function_error", f"call to {fn} answered {status}", fn, status, request_id, body)


def call(name, args=None, url=None, request_id=None, deadline=None, depth=None, timeout_ms=None, headers=None, now=time.time):
    """Calls function `name` with `args` (JSON-encoded; bytes and str go as they are) and returns
    its answer: parsed JSON, text or bytes. Raises CallError. `deadline` is epoch ms; `depth` the
    calling request's depth (the call goes out at depth + 1). Unset values come from the current
    request inside a function."""
    ctx = current()
    if ctx is not None:
        request_id = ctx.request_id if request_id is None else request_id
        deadline = ctx.deadline if deadline is None else deadline
        depth = ctx.depth if depth is None else depth
    depth = depth or 0
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise CallError("invalid_name", f"cannot call {name!r}: not a function name", str(name), request_id=request_id)
    remaining = None if deadline is None else int(deadline - now() * 1000)
    if remaining is not None and remaining <= 0:
        raise CallError("upstream_timeout", f"call to {name}: the caller's deadline has passed", name, request_id=request_id)
    limit_ms = min(timeout_ms or DEFAULT_TIMEOUT_MS, remaining if remaining is not None else DEFAULT_TIMEOUT_MS)
    conn, base = _connection(url or os.environ.get(CALL_URL_ENV) or DEFAULT_CALL_URL, limit_ms / 1000, name)
    body, ctype = _encode(args)
    h = {"accept": "application/json, */*", "content-length": str(len(body or b""))}
    if ctype:
        h["content-type"] = ctype
    h.update(headers or {})
    h[DEPTH_HEADER] = str(depth + 1)
    if request_id is not None:
        h[REQUEST_ID_HEADER] = request_id
    if remaining is not None:
        h[DEADLINE_HEADER] = str(remaining)
    try:
        conn.request("POST", f"{base}/{name}", body=body, headers=h)
        res = conn.getresponse()
        data = res.read(MAX_RESPONSE_BYTES + 1)
    except socket.timeout as err:
        raise CallError("upstream_timeout", f"call to {name}: no answer within {limit_ms} ms", name, request_id=request_id) from err
    except (ConnectionRefusedError, FileNotFoundError, PermissionError, socket.gaierror) as err:
        raise CallError("platform_unavailable", f"call to {name}: cannot connect: {err}", name, request_id=request_id) from err
    except (OSError, http.client.HTTPException) as err:
        raise CallError("bad_gateway", f"call to {name}: the connection failed: {err}", name, request_id=request_id) from err
    finally:
        conn.close()
    if len(data) > MAX_RESPONSE_BYTES:
        raise CallError("bad_gateway", f"call to {name}: the answer exceeds {MAX_RESPONSE_BYTES} bytes", name, res.status, request_id)
    rid = res.getheader(REQUEST_ID_HEADER) or request_id
    value = _decode(name, res.status, res.getheader("content-type"), data, rid)
    if not 200 <= res.status <= 299:
        raise _error_of(name, res.status, value, rid)
    return value
