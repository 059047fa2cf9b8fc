"""The Python runtime's process: listen, load the handler, count requests, drain on SIGTERM.
ThreadingHTTPServer (a thread per connection) keeps it to the standard library."""
import os
import signal
import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer

from .body import BadBody, MemoryGuard
from .config import ConfigError, parse_config
from .handler import Context, HandlerLoadError, load_handler
from .log import Logger
from .request import RequestHandler
from .response import error_response


class Runtime:
    def __init__(self, cfg, log):
        self.cfg, self.log = cfg, log
        self.guard = MemoryGuard(cfg.cgroup_dir)
        if cfg.memory_mb is None and self.guard.max_bytes is not None:
            cfg.memory_mb = self.guard.max_bytes // (1024 * 1024)
        self.handler = None
        self.draining = False
        self.listening = False
        self.inflight = self.served = self.rejected = 0
        self.last_idle = time.time()
        self.lock = threading.Condition()
        self.connections = set()

    # -- counters
    def is_ready(self):
        return self.handler is not None and not self.draining and self.listening

    def stats(self):
        with self.lock:
            idle = 0 if self.inflight > 0 else int((time.time() - self.last_idle) * 1000)
            return {"function": self.cfg.function_name, "version": self.cfg.function_version, "inflight": self.inflight,
                    "served": self.served, "rejected": self.rejected, "concurrency": self.cfg.concurrency,
                    "idleMs": idle, "ready": self.is_ready(), "draining": self.draining}

    def enter(self):
        with self.lock:
            self.inflight += 1

    def leave(self):
        with self.lock:
            self.inflight -= 1
            self.served += 1
            if self.inflight == 0:
                self.last_idle = time.time()
                self.lock.notify_all()

    def count_refusal(self, status):
        with self.lock:
            if status in (429, 503):
                self.rejected += 1
            else:
                self.served += 1

    def refusal(self, req):
        """An answer that applies before reading the body, or None. Checked under the lock with
        enter() following in the same thread, so the limit can be passed by at most the
        requests racing between the two (the router keeps per-instance concurrency anyway)."""
        fn, rid, cfg = self.cfg.function_name, req.request_id(), self.cfg
        if self.handler is None:
            return error_response("platform_unavailable", "the handler is still loading", fn, rid)
        if self.draining:
            return error_response("draining", "this instance is shutting down", fn, rid)
        with self.lock:
            busy = self.inflight >= cfg.concurrency
        if busy:
            self.log.warn("concurrency_limit", requestId=rid, inflight=self.inflight, concurrency=cfg.concurrency)
            return error_response("concurrency_limit", f"this instance already serves {cfg.concurrency} request(s)", fn, rid)
        try:
            n = req.declared_length()
        except BadBody as err:
            return error_response("invalid_request", str(err), fn, rid)
        if n is not None and n > cfg.max_body_bytes:
            return error_response("body_too_large", f"request body of {n} bytes exceeds {cfg.max_body_bytes} bytes", fn, rid)
        if n is not None and not self.guard.fits(n):
            self.log.warn("body_exceeds_memory", requestId=rid, bytes=n, memoryMax=self.guard.max_bytes)
            return error_response("body_too_large", f"request body of {n} bytes does not fit in this instance's free memory", fn, rid)
        return None

    def context(self, request_id, deadline, calls=None):
        return Context(self.cfg, request_id, deadline, calls)

    # -- connections and the drain
    def connection_opened(self, conn):
        with self.lock:
            self.connections.add(conn)

    def connection_closed(self, conn):
        with self.lock:
            self.connections.discard(conn)

    def drain(self, server):
        self.draining = True
        self.log.info("draining", inflight=self.inflight, drainTimeoutMs=self.cfg.drain_timeout_ms)
        server.shutdown()
        server.server_close()  # new connections are refused from here
        self.listening = False
        with self.lock:
            idle = [c for c in self.connections if not c.busy]
        for c in idle:
            try:
                c.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client
        deadline = time.time() + self.cfg.drain_timeout_ms / 1000
        with self.lock:
            while self.inflight > 0 and time.time() < deadline:
                self.lock.wait(deadline - time.time())
            left = self.inflight
        if left > 0:
            self.log.warn("drain_timeout", inflight=left)
        self.log.info("drained", served=self.served, rejected=self.rejected, abandoned=left)


def main(env=None):
    env = os.environ if env is None else env
    boot = Logger({"fn": env.get("FAAS_FUNCTION")})
    try:
        cfg = parse_config(env)
    except ConfigError as err:
        boot.error("invalid_config", message=str(err), name=err.name)
        sys.exit(1)
    log = Logger({"fn": cfg.function_name, "version": cfg.function_version}, cfg.log_level)
    rt = Runtime(cfg, log)
    handler_class = type("BoundRequestHandler", (RequestHandler,), {"rt": rt})
    ThreadingHTTPServer.allow_reuse_address = True
    try:
        server = ThreadingHTTPServer((cfg.host, cfg.port), handler_class)
    except OSError as err:
        log.error("start_failed", message=f"cannot listen on {cfg.host}:{cfg.port}: {err}")
        sys.exit(1)
    server.daemon_threads = True
    # Blocked before any thread starts (threads inherit the mask), then taken synchronously by
    # sigwait: a Python signal handler would only run once the main thread wakes up.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    threading.Thread(target=server.serve_forever, name="faas-accept", daemon=True).start()
    rt.listening = True
    log.info("listening", host=cfg.host, port=server.server_address[1])
    # Loaded after listen so /_faas/ready answers 503 during a slow module load.
    started = time.time()
    try:
        rt.handler = load_handler(cfg.code_dir, cfg.handler_module, cfg.handler_export)
    except HandlerLoadError as err:
        log.error("handler_load_failed", message=str(err), codeDir=cfg.code_dir, module=cfg.handler_module, error=err.__cause__ or err)
        sys.exit(1)
    rt.last_idle = time.time()
    log.info("ready", port=server.server_address[1], handler=f"{cfg.handler_module}.{cfg.handler_export}", style=cfg.handler_style,
             loadMs=int((time.time() - started) * 1000), concurrency=cfg.concurrency, maxBodyBytes=cfg.max_body_bytes, memoryMax=rt.guard.max_bytes)
    sig = signal.sigwait(stop_signals)
    log.info("signal", signal=signal.Signals(sig).name)
    rt.drain(server)
    sys.stdout.flush()
    os._exit(0)  # handler threads past their deadline must not hold the exit
