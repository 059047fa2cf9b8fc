# HTTP style, Python: JSON in, JSON out. {"base": 1000, "bonus_pct": 10} ->
# {"base": 1000, "bonus_pct": 10, "bonus": 100, "total": 1100}. Bad input: 400 with a JSON error.
import json
import math

MAX_AMOUNT = 1e12


def bad(message):
    return {
        "statusCode": 400,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"error": "invalid_input", "message": message}),
    }


def number(args, key, low, high, default=None):
    v = args.get(key, default)
    # bool is an int in Python: true is not a salary.
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None, f"{key} must be a number"
    if v < low or v > high:
        return None, f"{key} must be between {low:g} and {high:g}"
    return v, None


def handler(event, context):
    try:
        args = json.loads(event["body"] or b"null")
    except (ValueError, UnicodeDecodeError):
        return bad('the body must be JSON such as {"base": 1000, "bonus_pct": 10}')
    if not isinstance(args, dict):
        return bad('the body must be a JSON object such as {"base": 1000, "bonus_pct": 10}')
    unknown = sorted(set(args) - {"base", "bonus_pct"})
    if unknown:
        return bad(f"unknown field(s): {', '.join(unknown)}")
    if "base" not in args:
        return bad("base is required")
    base, err = number(args, "base", 0, MAX_AMOUNT)
    if err:
        return bad(err)
    pct, err = number(args, "bonus_pct", 0, 1000, default=0)
    if err:
        return bad(err)
    bonus = round(base * pct / 100, 2)
    total = round(base + bonus, 2)
    # Whole amounts stay integers in the JSON (1100, not 1100.0).
    tidy = lambda x: int(x) if float(x).is_integer() else x
    return {"base": tidy(base), "bonus_pct": tidy(pct), "bonus": tidy(bonus), "total": tidy(total)}
