"""Reading a request body once (Content-Length: one read; chunked: chunks joined once) within the
limit, and the cgroup memory guard (memory.max read once, memory.current per large body)."""
import os

MEMORY_HEADROOM_BYTES = 16 * 1024 * 1024
MEMORY_CHECK_MIN_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    pass


class BadBody(Exception):
    pass


def read_chunked(rfile, limit):
    chunks, size = [], 0
    while True:
        line = rfile.readline(1026)
        if not line.endswith(b"\n"):
            raise BadBody("chunk size line missing or too long")
        try:
            n = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError as err:
            raise BadBody("malformed chunk size") from err
        if n == 0:
            break
        if size + n > limit:
            raise BodyTooLarge()
        data = rfile.read(n)
        if len(data) != n or rfile.readline(3) not in (b"\r\n", b"\n"):
            raise BadBody("chunk shorter than its size")
        chunks.append(data)
        size += n
    while rfile.readline(8194) not in (b"\r\n", b"\n", b""):
        pass  # trailers are not passed to handlers
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _read_number(path):
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
    except OSError:
        return None  # no cgroup v2 file here (not in a container): no guard
    return int(text) if text.isdigit() else None  # "max" means unlimited


def body_fits_memory(n, max_bytes, current):
    if max_bytes is None or current is None or n < MEMORY_CHECK_MIN_BYTES:
        return True
    return current + n + MEMORY_HEADROOM_BYTES <= max_bytes


V1_UNLIMITED = 2 ** 62  # cgroup v1 reports "no limit" as a huge page-rounded number


class MemoryGuard:
    """cgroup v2 (memory.max, memory.current), else v1 (memory/memory.limit_in_bytes, usage_in_bytes)."""

    def __init__(self, cgroup_dir):
        if os.path.exists(os.path.join(cgroup_dir, "memory.max")):
            self.max_bytes = _read_number(os.path.join(cgroup_dir, "memory.max"))
            self._current = os.path.join(cgroup_dir, "memory.current")
        else:
            limit = _read_number(os.path.join(cgroup_dir, "memory", "memory.limit_in_bytes"))
            self.max_bytes = limit if limit is not None and limit < V1_UNLIMITED else None
            self._current = os.path.join(cgroup_dir, "memory", "memory.usage_in_bytes")

    def fits(self, n):
        if self.max_bytes is None or n < MEMORY_CHECK_MIN_BYTES:
            return True
        return body_fits_memory(n, self.max_bytes, _read_number(self._current))
