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
    with the load generator). ``url`` is http://127.0.0.1:PORT; ``base_url`` adds /v1."""

    url: str
    proc: subprocess.Popen
    log_path: Path
    args: list[str]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def log(self) -> str:
        """What the server logged so far (stderr: warnings and errors)."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int | None:
        """SIGTERM by PID (SIGKILL after 5 s); returns the exit code. Idempotent."""
        stop_pid(self.proc)
        return self.proc.returncode

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
    """Start ``python -m mock_server --host 127.0.0.1 --port 0 ARGS`` and wait for its one-line
    readiness banner; a server that never gets there is stopped and its log tail quoted."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = ["--host", "127.0.0.1", "--port", "0", *args]
    log_path.write_bytes(b"")
    with log_path.open("ab") as log:  # append mode: stderr and the stdout drain share the file
        proc = subprocess.Popen(
            [sys.executable, "-m", "mock_server", *argv],
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=Path(__file__).resolve().parent.parent,
        )
    ready: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(target=_drain, args=(proc.stdout, log_path, ready), daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return MockServerProcess(ready.get(timeout=0.1), proc, log_path, argv)
        except queue.Empty:
            if proc.poll() is not None:
                break
    stop_pid(proc)
    tail = log_path.read_text(errors="replace").strip()[-2000:]
    raise TargetError(
        f"mock server {' '.join(args)} did not start (exit code {proc.returncode}); "
        f"log {log_path}: {tail}"
    )
