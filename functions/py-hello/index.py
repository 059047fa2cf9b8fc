# HTTP style, Python: returns a greeting. `?name=` picks who is greeted.
def handler(event, context):
    name = event["query"].get("name") or "world"
    return {
        "statusCode": 200,
        "headers": {"content-type": "text/plain; charset=utf-8"},
        "body": f"Hello from Python, {name}!\n",
    }
