"""Constants shared with the platform, repeated from contracts/src on purpose: the runtime ships
without dependencies. The conformance suite checks the values on the wire."""

RUNTIME_PORT = 8080
READY_PATH = "/_faas/ready"
STATS_PATH = "/_faas/stats"
REQUEST_ID_HEADER = "x-request-id"
DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024  # contracts' DEFAULT_MAX_BODY_BYTES
LAMBDA_INVOKE_PATH = "/2015-03-31/functions/function/invocations"

# The client error codes the runtime answers (a subset of contracts' CLIENT_ERRORS).
ERROR_STATUS = {
    "invalid_request": 400,
    "body_too_large": 413,
    "uri_too_long": 414,
    "headers_too_large": 431,
    "concurrency_limit": 429,
    "handler_error": 500,
    "internal_error": 500,
    "draining": 503,
    "platform_unavailable": 503,
    "function_timeout": 504,
}
