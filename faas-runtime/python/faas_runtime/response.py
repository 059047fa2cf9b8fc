"""Turning a handler's result into (status, headers, body bytes): the Node runtime's rules."""
import base64
import json
import re

from .constants import ERROR_STATUS

RESPONSE_KEYS = {"statusCode", "headers", "body", "isBase64Encoded"}
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class InvalidResult(Exception):
    pass


def is_response_shape(v):
    if not isinstance(v, dict):
        return False
    if "statusCode" in v:
        return True
    return len(v) > 0 and "body" in v and all(k in RESPONSE_KEYS for k in v)


def _encode(body, b64):
    if body is None:
        return b"", None
    if isinstance(body, str):
        if b64:
            return base64.b64decode(body), "application/octet-stream"
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body), "application/octet-stream"
    try:
        return json.dumps(body, separators=(",", ":")).encode("utf-8"), "application/json"
    except (TypeError, ValueError) as err:
        raise InvalidResult(f"the handler's result cannot be serialised to JSON: {err}") from err


def _headers(raw):
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidResult("result.headers must be an object of header name to value")
    out = {}
    for k, v in raw.items():
        if not isinstance(k, str) or not _TOKEN.fullmatch(k):
            raise InvalidResult(f"result.headers: invalid header name {json.dumps(str(k))}")
        values = v if isinstance(v, list) else [v]
        strs = []
        for x in values:
            if isinstance(x, bool):
                x = "true" if x else "false"
            if not isinstance(x, (str, int, float)):
                raise InvalidResult(f"result.headers.{k}: values must be strings or numbers")
            s = str(x)
            if re.search(r"[\r\n\0]", s):
                raise InvalidResult(f"result.headers.{k}: value contains a line break or NUL")
            strs.append(s)
        out[k.lower()] = strs
    return out


def to_http_response(result):
    """Returns (status, {name: [values]}, bytes)."""
    if result is None:
        return 204, {}, b""
    if is_response_shape(result):
        status = result.get("statusCode", 200)
        if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
            raise InvalidResult(f"result.statusCode must be a whole number from 200 to 599, got {json.dumps(status, default=str)}")
        headers = _headers(result.get("headers"))
        data, ctype = _encode(result.get("body"), result.get("isBase64Encoded") is True)
        if ctype is not None and "content-type" not in headers:
            headers["content-type"] = [ctype]
        return status, headers, data
    data, ctype = _encode(result, False)
    return 200, ({"content-type": [ctype]} if ctype else {}), data


def json_response(status, value):
    return status, {"content-type": ["application/json"]}, json.dumps(value, separators=(",", ":")).encode("utf-8")


def error_response(code, message, fn, request_id):
    return json_response(ERROR_STATUS[code], {"error": code, "message": message, "fn": fn, "requestId": request_id})
