"""Private helper processes the suite starts for itself (redis-server), each on a free loopback port.

Rule: a process we start is stopped by its PID, never by name, and never outlives its owner's
``with`` block. When no redis-server binary can be had, ``find_redis_server`` says so; the caller
decides (the demo falls back to the mock's in-memory cache and says it in one line).
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from suite.errors import CacheBackendError, TargetError


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise CacheBackendError(
                f"process {proc.args[0]} exited with code {proc.returncode} before "
                f"listening on {host}:{port}"
            )
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f}s")


def find_redis_server() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/local/bin/redis-server") if os.access(p, os.X_OK)), None
    )


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
        raise CacheBackendError(
            "redis-server not found. Install it (as root: apt-get install -y "
            "redis-server) or run with the in-memory cache (--cache memory)."
        )
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="llmsuite-redis-"))
    args = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
        "--logfile",
        str(workdir / "redis.log"),
        "--daemonize",
        "no",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisServer(port=port, proc=proc, workdir=workdir)
    try:
        wait_for_port("127.0.0.1", port, timeout, proc)
    except BaseException:
        server.stop()
        raise
    return server


@dataclass
class MockServerProcess:
    """The bundled mock server in its own process (so its event loop never shares a core's GIL
    with the load generator)."""

    url: str
    proc: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        stop_pid(self.proc)

    def __enter__(self) -> MockServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


READY_PREFIX = "mock_server listening on "


def _drain(stream: IO[bytes], log_path: Path, ready: queue.Queue[str]) -> None:
    """Forward the child's stdout to its log, handing the readiness banner to the waiting caller."""
    with stream, log_path.open("ab") as log:
        for raw in stream:
            line = raw.decode(errors="replace")
            if line.startswith(READY_PREFIX):
                ready.put(line[len(READY_PREFIX) :].strip())
            log.write(raw)
            log.flush()


def start_mock_server(args: list[str], log_path: Path, timeout: float = 20.0) -> MockServerProcess:
    """Start ``python -m mock_server ARGS --port 0`` and wait for its one-line readiness banner."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "--host", "127.0.0.1", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=log,
        )
    ready: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(target=_drain, args=(proc.stdout, log_path, ready), daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            return MockServerProcess(ready.get(timeout=0.1), proc, log_path)
        except queue.Empty:
            continue
    stop_pid(proc)
    tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
    raise TargetError(
        f"mock server did not start (exit code {proc.returncode}); see {log_path}: " + " | ".join(tail)
    )
