"""Runtime configuration from FAAS_* environment variables, with messages naming the variable."""
import os
import posixpath
import re
from dataclasses import dataclass
from typing import Optional

from .constants import DEFAULT_MAX_BODY_BYTES, RUNTIME_PORT


class ConfigError(Exception):
    def __init__(self, message, name):
        super().__init__(message)
        self.name = name


@dataclass
class Config:
    function_name: str
    function_version: str
    code_dir: str
    handler_module: str
    handler_export: str
    handler_style: str
    concurrency: int
    port: int
    host: str
    timeout_ms: int
    drain_timeout_ms: int
    max_body_bytes: int
    memory_mb: Optional[int]
    cgroup_dir: str
    log_level: str


def _str(env, name, fallback=None):
    v = env.get(name, "")
    if v == "":
        if fallback is None:
            raise ConfigError(f"environment variable {name} is required", name)
        return fallback
    return v


def _int(env, name, fallback, lo, hi):
    v = env.get(name, "")
    if v == "":
        return fallback
    if not re.fullmatch(r"\d+", v.strip()) or not lo <= int(v) <= hi:
        raise ConfigError(f"environment variable {name}={v!r} must be a whole number from {lo} to {hi}".replace("'", '"'), name)
    return int(v)


def parse_handler(spec):
    m = re.fullmatch(r"([A-Za-z0-9_./-]+)\.([A-Za-z_][A-Za-z0-9_]*)", spec)
    if not m:
        raise ConfigError(f'environment variable FAAS_HANDLER="{spec}" must look like "<module>.<export>", e.g. "index.handler"', "FAAS_HANDLER")
    module = posixpath.normpath(m.group(1))
    if module == ".." or module.startswith("../") or module.startswith("/"):
        raise ConfigError(f'environment variable FAAS_HANDLER="{spec}": the module must stay inside the code directory', "FAAS_HANDLER")
    return module, m.group(2)


def parse_config(env):
    name = _str(env, "FAAS_FUNCTION")
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,39}", name):
        raise ConfigError(f'environment variable FAAS_FUNCTION="{name}" must be lowercase letters, digits and "-", starting with a letter, at most 40 characters', "FAAS_FUNCTION")
    version = _str(env, "FAAS_VERSION", "0")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", version):
        raise ConfigError(f'environment variable FAAS_VERSION="{version}" must be 1-64 letters, digits, ".", "_" or "-"', "FAAS_VERSION")
    module, export = parse_handler(_str(env, "FAAS_HANDLER", "index.handler"))
    style = _str(env, "FAAS_HANDLER_STYLE", "http")
    if style not in ("http", "lambda"):
        raise ConfigError(f'environment variable FAAS_HANDLER_STYLE="{style}" must be one of http, lambda', "FAAS_HANDLER_STYLE")
    memory = env.get("FAAS_MEMORY_MB", "")
    return Config(
        function_name=name,
        function_version=version,
        code_dir=os.path.abspath(_str(env, "FAAS_CODE_DIR", "/opt/faas/function")),
        handler_module=module,
        handler_export=export,
        handler_style=style,
        concurrency=_int(env, "FAAS_CONCURRENCY", 8, 1, 10_000),
        port=_int(env, "FAAS_PORT", RUNTIME_PORT, 0, 65_535),
        host=_str(env, "FAAS_HOST", "0.0.0.0"),
        timeout_ms=_int(env, "FAAS_TIMEOUT_MS", 30_000, 1, 24 * 3_600_000),
        drain_timeout_ms=_int(env, "FAAS_DRAIN_TIMEOUT_MS", 10_000, 0, 3_600_000),
        max_body_bytes=_int(env, "FAAS_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 0, 1024 * 1024 * 1024),
        memory_mb=None if memory == "" else _int(env, "FAAS_MEMORY_MB", 0, 1, 1024 * 1024),
        cgroup_dir=os.path.abspath(_str(env, "FAAS_CGROUP_DIR", "/sys/fs/cgroup")),
        log_level=_str(env, "FAAS_LOG_LEVEL", "info"),
    )
