# HTTP style, Python: receives a GitHub-star-like event and welcomes the new fan with an avatar
# that it gets by calling the getavatar function through the platform (faas_call, Funker style).
#
#   POST /fanclub {"action": "created", "sender": {"login": "octocat"},
#                  "repository": {"full_name": "octo-org/hello", "stargazers_count": 42}}
#
# Answers JSON with the avatar as a data URI, its size and SHA-256. A failed call answers the
# callee's status and error code (call_depth_exceeded, wake_timeout, ...).
import base64
import hashlib
import json
import re

import faas_call

LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}")
# Statuses of the errors the client raises itself, when no answer came (contracts' CLIENT_ERRORS).
LOCAL_STATUS = {"platform_unavailable": 503, "upstream_timeout": 504}


def _json(status, body):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def _bad(message, context):
    return _json(400, {"error": "invalid_request", "message": message, "fn": "fanclub", "requestId": context.requestId})


def _event(raw):
    try:
        ev = json.loads(raw or b"null")
    except ValueError as err:
        raise ValueError(f"the body is not JSON: {err}") from err
    if not isinstance(ev, dict):
        raise ValueError("the body must be a JSON object (a GitHub star event)")
    sender, repo = ev.get("sender"), ev.get("repository")
    login = sender.get("login") if isinstance(sender, dict) else None
    if not isinstance(login, str) or not LOGIN.fullmatch(login):
        raise ValueError("sender.login must be a GitHub login")
    if not isinstance(repo, dict):
        raise ValueError("repository must be an object")
    name = repo.get("full_name")
    if not isinstance(name, str):
        owner = repo.get("owner") if isinstance(repo.get("owner"), dict) else {}
        name = "/".join(str(p) for p in (owner.get("login"), repo.get("name")) if p)
    if not name:
        raise ValueError("repository.full_name (or owner.login and name) is required")
    return ev.get("action"), login, name, repo.get("stargazers_count")


def handler(event, context):
    if event["method"] != "POST":
        return _bad("POST a GitHub star event", context)
    try:
        action, login, repo, stars = _event(event["body"])
    except ValueError as err:
        return _bad(str(err), context)
    if action != "created":
        return _json(200, {"fan": login, "repository": repo, "action": action, "message": f"{login} left the fan club of {repo}"})
    try:
        png = faas_call.call("getavatar", {"login": login, "size": 64})
    except faas_call.CallError as err:
        return _json(err.status or LOCAL_STATUS.get(err.code, 502), {"error": err.code, "message": str(err), "fn": "fanclub", "requestId": context.requestId})
    if not isinstance(png, bytes):
        return _json(502, {"error": "bad_gateway", "message": "getavatar did not answer an image", "fn": "fanclub", "requestId": context.requestId})
    return _json(200, {
        "message": f"Welcome to the fan club of {repo}, {login}!",
        "fan": login,
        "repository": repo,
        "stars": stars,
        "avatar": {
            "contentType": "image/png",
            "bytes": len(png),
            "sha256": hashlib.sha256(png).hexdigest(),
            "dataUri": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        },
        "requestId": context.requestId,
        "callDepth": context.call_depth,
    })
