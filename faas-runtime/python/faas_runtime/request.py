"""One request: refusals decided before the body is read (and before 100 Continue, so a refused
request never "reached" the instance), the body read once, the handler called in its style, and
every answer the runtime makes itself as error JSON."""
import json
import re
import socket
import time
import uuid
from http.server import BaseHTTPRequestHandler

import faas_call

from .body import BadBody, BodyTooLarge, read_chunked
from .constants import LAMBDA_INVOKE_PATH, READY_PATH, REQUEST_ID_HEADER, STATS_PATH
from .events import api_gateway_event, http_event, split_target
from .handler import HandlerTimeout, invoke
from .response import InvalidResult, error_response, json_response, to_http_response

_REQUEST_ID_OK = re.compile(r"[\x21-\x7e]{1,200}")
# http.server's own errors (malformed requests) mapped to client error codes.
_SEND_ERROR_CODES = {414: "uri_too_long", 431: "headers_too_large"}


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and 100 Continue for Expect
    server_version = "faas-runtime-python"
    rt = None  # the Runtime (server.py), set on the subclass
    _refused = None
    _request_id = None

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        pass  # one JSON line per event instead (debug "request" lines)

    # -- connection bookkeeping for the drain: only idle connections are closed at SIGTERM
    def setup(self):
        super().setup()
        self.rt.connection_opened(self)
        self.busy = False

    def finish(self):
        try:
            super().finish()
        finally:
            self.rt.connection_closed(self)

    def handle_one_request(self):
        try:
            super().handle_one_request()
        finally:
            self.busy = False
            self._refused = None
            self._request_id = None

    def parse_request(self):
        self.busy = True
        return super().parse_request()

    def request_id(self):
        if self._request_id is None:
            v = self.headers.get(REQUEST_ID_HEADER) if getattr(self, "headers", None) is not None else None
            self._request_id = v if v is not None and _REQUEST_ID_OK.fullmatch(v) else str(uuid.uuid4())
        return self._request_id

    def handle_expect_100(self):
        target = split_target(self.path)
        control = self.command == "GET" and target is not None and target[0] in (READY_PATH, STATS_PATH)
        refused = None if target is None or control else self.rt.refusal(self)
        if refused is None:
            return super().handle_expect_100()
        self._refused = refused
        return True

    def send_error(self, code, message=None, explain=None):
        name = _SEND_ERROR_CODES.get(code, "invalid_request")
        text = f"malformed HTTP request ({message or code})" if name == "invalid_request" else (message or name)
        self.close_connection = True
        self.rt.log.warn("client_error", status=code, message=str(message))
        self.send(error_response(name, text, self.rt.cfg.function_name, self.request_id()), close=True)

    def send(self, response, close=False):
        status, headers, data = response
        self.send_response(status)
        for k, values in headers.items():
            for v in values:
                self.send_header(k, v)
        self.send_header(REQUEST_ID_HEADER, self.request_id())
        self.send_header("content-length", str(len(data)))
        if close or self.rt.draining:
            self.send_header("connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def refuse_unread(self, response):
        """An answer without reading the body: close after it, discarding what the client still sends."""
        has_body = self.headers.get("transfer-encoding") is not None or self.headers.get("content-length", "0") not in ("", "0")
        self.send(response, close=has_body)
        if has_body:
            self._discard()

    def _discard(self):
        # Closing with unread bytes would reset the connection and could lose the answer.
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(2.0)
            while self.connection.recv(65536):
                pass
        except OSError:
            pass  # the client went away or stalled: nothing left to protect

    def dispatch(self):
        rt, fn = self.rt, self.rt.cfg.function_name
        rid = self.request_id()
        target = split_target(self.path)
        if target is None:
            self.refuse_unread(error_response("invalid_request", 'the request target must be a path starting with "/"', fn, rid))
            return
        path, raw = target
        if self.command == "GET" and path == READY_PATH:
            ok = rt.is_ready()
            self.send(json_response(200 if ok else 503, {"ready": ok, "draining": rt.draining, "loaded": rt.handler is not None}))
            return
        if self.command == "GET" and path == STATS_PATH:
            self.send(json_response(200, rt.stats()))
            return
        refused = self._refused or rt.refusal(self)
        if refused is not None:
            rt.count_refusal(refused[0])
            self.refuse_unread(refused)
            return
        rt.enter()
        started = time.time()
        status = 0
        try:
            try:
                body = self.read_body()
            except BodyTooLarge:
                status = 413
                self.refuse_unread(error_response("body_too_large", f"request body exceeds {rt.cfg.max_body_bytes} bytes", fn, rid))
                return
            except BadBody as err:
                status = 400
                self.refuse_unread(error_response("invalid_request", str(err), fn, rid))
                return
            response = self.call(path, raw, body, self.calls(started * 1000))
            status = response[0]
            self.send(response)
        except (BrokenPipeError, ConnectionResetError):
            rt.log.warn("request_aborted", requestId=rid)
        except Exception as err:  # noqa: BLE001 - the runtime's own failure: logged, answered as JSON
            status = 500
            rt.log.error("request_failed", requestId=rid, error=err)
            self.send(error_response("internal_error", "the runtime failed to handle the request; see its logs", fn, rid), close=True)
        finally:
            rt.leave()
            rt.log.debug("request", requestId=rid, method=self.command, path=path, status=status, ms=int((time.time() - started) * 1000))

    def read_body(self):
        limit = self.rt.cfg.max_body_bytes
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            return read_chunked(self.rfile, limit)
        n = self.declared_length()
        if n is None or n == 0:
            return b""
        data = self.rfile.read(n)
        if len(data) != n:
            raise BadBody("the client ended the request before its body was complete")
        return data

    def declared_length(self):
        v = self.headers.get("content-length")
        if v is None:
            return None
        if not v.strip().isdigit():
            raise BadBody(f"invalid Content-Length {json.dumps(v)}")
        return int(v)

    def handler_headers(self):
        out = {}
        for k, v in self.headers.items():
            k = k.lower()
            if k != "expect":  # hop-by-hop, answered by the runtime
                out[k] = f"{out[k]}, {v}" if k in out else v
        return out

    def calls(self, started_ms):
        """The request's call context; its deadline is the function's timeout or the caller's earlier one."""
        ctx = faas_call.CallContext.from_headers(self.handler_headers(), self.request_id(), started_ms)
        own = started_ms + self.rt.cfg.timeout_ms
        ctx.deadline = own if ctx.deadline is None else min(own, ctx.deadline)
        return ctx

    def call(self, path, raw, body, calls):
        rt, fn, rid = self.rt, self.rt.cfg.function_name, self.request_id()
        deadline = calls.deadline
        cfg = rt.cfg
        headers = self.handler_headers()
        lambda_invoke = cfg.handler_style == "lambda" and self.command == "POST" and path == LAMBDA_INVOKE_PATH
        if lambda_invoke:
            try:
                event = json.loads(body) if body else {}
            except ValueError as err:
                return error_response("invalid_request", f"the invoke body is not JSON: {err}", fn, rid)
        elif cfg.handler_style == "lambda":
            event = api_gateway_event(self.command, path, raw, headers, body, rid, self.client_address[0], self.request_version)
        else:
            event = http_event(self.command, path, raw, headers, body, rid)
        try:
            result = invoke(rt.handler, event, rt.context(rid, deadline, calls), cfg.timeout_ms)
            if lambda_invoke:
                return json_response(200, result)
            return to_http_response(result)
        except HandlerTimeout as err:
            rt.log.error("handler_timeout", requestId=rid, timeoutMs=cfg.timeout_ms)
            return error_response("function_timeout", str(err), fn, rid)
        except Exception as err:  # noqa: BLE001 - user code: every failure is the handler's error
            rt.log.error("handler_error", requestId=rid, error=err)
            if lambda_invoke and not isinstance(err, InvalidResult):
                status, hdrs, data = json_response(200, {"errorMessage": str(err), "errorType": type(err).__name__})
                return status, {**hdrs, "x-amz-function-error": ["Unhandled"]}, data
            return error_response("handler_error", str(err), fn, rid)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = dispatch
