#!/usr/bin/python3
"""C-core xDS test client (Debian python3-grpcio), driven by the conformance tests.

Run with Debian's /usr/bin/python3. The bootstrap comes from GRPC_XDS_BOOTSTRAP_CONFIG.
Reads one JSON command per stdin line, writes one JSON reply per stdout line:
  {"id": 1, "op": "call", "path": "/hello/ping", "count": 5, "timeout": 3}
      -> {"id": 1, "results": [{"ok": true, "reply": "b1"} | {"ok": false, "code": "UNAVAILABLE", "details": "..."}]}
  {"id": 2, "op": "until_ok", "path": "/hello/ping", "deadline": 10, "expect": "b2"}
      -> {"id": 2, "ok": true, "reply": "b2", "tries": 3} (or ok false with the last error)
  {"id": 3, "op": "quit"}
One channel lives for the whole process, so it follows the control plane through updates,
NACKs and restarts like a long-running service would.
"""
import json
import sys
import time

import grpc


def call_once(channel, path, timeout):
    rpc = channel.unary_unary(path, request_serializer=None, response_deserializer=None)
    try:
        reply = rpc(b"hi", timeout=timeout)
        return {"ok": True, "reply": reply.decode("utf-8", "replace")}
    except grpc.RpcError as err:  # a failed RPC is a result, not a crash
        return {"ok": False, "code": err.code().name, "details": err.details() or ""}


def main():
    target = sys.argv[1] if len(sys.argv) > 1 else "xds:///fn-gw"
    channel = grpc.insecure_channel(target)
    print(json.dumps({"event": "ready", "grpc": grpc.__version__}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
        except ValueError as err:
            print(json.dumps({"id": None, "error": "bad json: %s" % err}), flush=True)
            continue
        op = cmd.get("op")
        cid = cmd.get("id")
        if op == "quit":
            break
        if op == "call":
            results = [call_once(channel, cmd["path"], float(cmd.get("timeout", 3)))
                       for _ in range(int(cmd.get("count", 1)))]
            print(json.dumps({"id": cid, "results": results}), flush=True)
        elif op == "until_ok":
            deadline = time.monotonic() + float(cmd.get("deadline", 10))
            expect = cmd.get("expect")
            tries = 0
            last = None
            while True:
                tries += 1
                last = call_once(channel, cmd["path"], 2)
                if last["ok"] and (expect is None or last["reply"] == expect):
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            out = dict(last)
            out["id"] = cid
            out["tries"] = tries
            if expect is not None and last["ok"] and last["reply"] != expect:
                out["ok"] = False
            print(json.dumps(out), flush=True)
        else:
            print(json.dumps({"id": cid, "error": "unknown op %r" % op}), flush=True)
    channel.close()


if __name__ == "__main__":
    main()
