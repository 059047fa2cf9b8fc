# Lambda style, Python: {"x": 1, "y": 2} -> 3, as Funker's call("add", x=1, y=2).
# On the invoke path the event is the JSON body; through the gateway it is API Gateway's
# HTTP API event, whose body holds the JSON.
import base64
import json


def handler(event, context):
    args = event
    if isinstance(event, dict) and "requestContext" in event:
        raw = event.get("body") or "{}"
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode("utf-8")
        args = json.loads(raw)
    if not isinstance(args, dict):
        raise ValueError('expected a JSON object such as {"x": 1, "y": 2}')
    x, y = args.get("x"), args.get("y")
    for label, v in (("x", x), ("y", y)):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"{label} must be a number")
    return x + y
