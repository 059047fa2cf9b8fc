"""Loading the user's handler and calling it with a deadline (plain or async functions)."""
import asyncio
import importlib.util
import inspect
import os
import sys
import threading
import time

import faas_call


class HandlerLoadError(Exception):
    pass


class HandlerTimeout(Exception):
    def __init__(self, ms):
        super().__init__(f"handler did not finish within {ms} ms")


def load_handler(code_dir, module, export):
    path = os.path.join(code_dir, module + ".py")
    if not os.path.isfile(path):
        pkg = os.path.join(code_dir, module, "__init__.py")
        if not os.path.isfile(pkg):
            raise HandlerLoadError(f'handler module "{module}" not found in {code_dir}')
        path = pkg
    # The code directory is importable, so a handler can import its own modules and requirements.
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    name = module.replace("/", ".")
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    except Exception as err:
        raise HandlerLoadError(f"handler module {path} raised while loading: {err}") from err
    fn = getattr(mod, export, None)
    if not callable(fn):
        found = "nothing" if fn is None else type(fn).__name__
        raise HandlerLoadError(f'handler module {path} has no function export "{export}" (found {found})')
    return fn


class Context:
    """Lambda's context: Python's snake_case names, and the camelCase ones the contract lists."""

    def __init__(self, cfg, request_id, deadline, calls=None):
        self.function_name = self.functionName = cfg.function_name
        self.function_version = self.functionVersion = cfg.function_version
        self.aws_request_id = self.awsRequestId = self.requestId = request_id
        mem = None if cfg.memory_mb is None else str(cfg.memory_mb)
        self.memory_limit_in_mb = self.memoryLimitInMB = mem
        self.deadline = deadline  # epoch ms, as in the Node runtime
        # call(name, args) through the platform with this request's id, deadline and depth (faas_call.py).
        self.calls = calls or faas_call.CallContext(request_id, deadline, 0)
        self.call = self.calls.call
        self.call_depth = self.callDepth = self.calls.depth

    def get_remaining_time_in_millis(self):
        return max(0, int(self.deadline - time.time() * 1000))

    getRemainingTimeInMillis = get_remaining_time_in_millis


def invoke(fn, event, context, timeout_ms):
    """Runs the handler in its own thread; raises HandlerTimeout at the deadline (the thread
    cannot be stopped and finishes in the background, as in the Node runtime)."""
    box = {}

    def run():
        faas_call.bind(context.calls)  # a plain faas_call.call() in the handler's thread propagates too
        try:
            r = fn(event, context)
            if inspect.isawaitable(r):
                r = asyncio.run(_await(r))
            box["result"] = r
        except BaseException as err:  # noqa: BLE001 - user code: every failure goes back to the request
            box["error"] = err

    t = threading.Thread(target=run, name="faas-handler", daemon=True)
    t.start()
    t.join(max(0.0, (context.deadline - time.time() * 1000) / 1000))
    if t.is_alive():
        raise HandlerTimeout(timeout_ms)
    if "error" in box:
        raise box["error"]
    return box.get("result")


async def _await(aw):
    return await aw
