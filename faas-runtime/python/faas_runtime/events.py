"""The events handlers receive: HTTP style (the request) and Lambda style (API Gateway v2)."""
import base64
import re
import time
from urllib.parse import parse_qsl

_TEXT = re.compile(r"^(text/|application/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))", re.I)


def split_target(target):
    """(path, raw query) of an origin-form target, or None for anything else."""
    if not target.startswith("/"):
        return None
    path, _, raw = target.partition("?")
    return path, raw


def first_values(raw):
    out = {}
    for k, v in parse_qsl(raw, keep_blank_values=True):
        out.setdefault(k, v)
    return out


def http_event(method, path, raw, headers, body, request_id):
    return {"method": method, "path": path, "rawQuery": raw, "query": first_values(raw), "headers": headers, "body": body, "requestId": request_id}


def api_gateway_event(method, path, raw, headers, body, request_id, source_ip, protocol):
    query = {}
    for k, v in parse_qsl(raw, keep_blank_values=True):
        query[k] = f"{query[k]},{v}" if k in query else v
    textual = len(body) > 0 and bool(_TEXT.match(headers.get("content-type", "")))
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw,
        "headers": headers,
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": protocol, "sourceIp": source_ip, "userAgent": headers.get("user-agent", "")},
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": len(body) > 0 and not textual,
    }
    if "cookie" in headers:
        event["cookies"] = re.split(r";\s*", headers["cookie"])
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = body.decode("utf-8", "replace") if textual else base64.b64encode(body).decode("ascii")
    return event
