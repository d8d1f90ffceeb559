"""Private helper processes the suite starts for itself (redis-server), each on a free loopback port.

Rule: a process we start is stopped by its PID, never by name, and never outlives its owner's
``with`` block. When no redis-server binary can be had, ``find_redis_server`` says so; the caller
decides (the demo falls back to the mock's in-memory cache and says it in one line).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from suite.errors import CacheBackendError


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise CacheBackendError(f"process {proc.args[0]} exited with code {proc.returncode} before "
                                    f"listening on {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f}s")


def find_redis_server() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/local/bin/redis-server") if os.access(p, os.X_OK)), None)


def stop_pid(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """Stop a child we started: SIGTERM, then SIGKILL after ``timeout`` — by PID only."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


@dataclass
class RedisServer:
    """A private redis-server: no persistence, loopback only, its own temp dir."""

    port: int
    proc: subprocess.Popen
    workdir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        stop_pid(self.proc)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_redis(binary: str | None = None, port: int | None = None, timeout: float = 10.0) -> RedisServer:
    binary = binary or find_redis_server()
    if binary is None:
        raise CacheBackendError("redis-server not found. Install it (as root: apt-get install -y "
                                "redis-server) or run with the in-memory cache (--cache memory).")
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="llmsuite-redis-"))
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(workdir), "--logfile", str(workdir / "redis.log"), "--daemonize", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisServer(port=port, proc=proc, workdir=workdir)
    try:
        wait_for_port("127.0.0.1", port, timeout, proc)
    except BaseException:
        server.stop()
        raise
    return server
