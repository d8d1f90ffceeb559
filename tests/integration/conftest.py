"""Integration fixtures for the bundled mock server: real processes on ports the OS chooses.

``mock_server``          one server per test; parametrize the cache indirectly:
                         ``@pytest.mark.parametrize("mock_server", ["redis"], indirect=True)``
                         ("memory" — the default —, "none", "redis" = the private test Redis,
                         or any cache URL).
``mock_server_factory``  ``start(cache="memory", profiles=None, seed=0, extra_args=())`` → a
                         started ``MockServer``; everything it started is stopped at teardown.

A server is ``python -m mock_server --host 127.0.0.1 --port 0 ...``; its port is read from the
one readiness line it prints, and it is stopped by PID (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

from suite.services import stop_pid

REPO = Path(__file__).resolve().parents[2]
READY_PREFIX = "mock_server listening on "
START_TIMEOUT_S = 20.0


@dataclass
class MockServer:
    """A running mock server process. ``url`` is http://127.0.0.1:PORT (``base_url`` adds /v1)."""

    url: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    args: list[str]
    _reader: threading.Thread | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def log(self) -> str:
        """What the server wrote to stderr so far (warnings, errors)."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int | None:
        """SIGTERM by PID (SIGKILL after 5 s); returns the exit code. Idempotent."""
        stop_pid(self.proc)
        if self._reader is not None:
            self._reader.join(timeout=5)
        return self.proc.returncode


def _read_banner(stream: IO[bytes], banner: list[str], ready: threading.Event) -> None:
    """Read the child's stdout to its end (so it can never block on a full pipe)."""
    with stream:
        for raw in stream:
            line = raw.decode(errors="replace").strip()
            if line.startswith(READY_PREFIX) and not ready.is_set():
                banner.append(line[len(READY_PREFIX):])
                ready.set()
    ready.set()


def launch_mock_server(log_dir: Path, *, cache: str = "memory", profiles: str | Path | None = None,
                       seed: int = 0, extra_args: Sequence[str] = (),
                       timeout: float = START_TIMEOUT_S) -> MockServer:
    """Start one server and wait for its readiness line; raise with its log if it never comes."""
    args = ["--host", "127.0.0.1", "--port", "0", "--cache", cache, "--seed", str(seed)]
    if profiles is not None:
        args += ["--profiles", str(profiles)]
    args += list(extra_args)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"mock_server_{time.monotonic_ns()}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "mock_server", *args], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=log)
    banner: list[str] = []
    ready = threading.Event()
    reader = threading.Thread(target=_read_banner, args=(proc.stdout, banner, ready), daemon=True)
    reader.start()
    server = MockServer("", proc, log_path, args, reader)
    if not ready.wait(timeout) or not banner:
        server.stop()
        raise RuntimeError(f"mock server {args} did not start (exit code {proc.returncode}); "
                           f"log: {server.log().strip()[-2000:]}")
    server.url = banner[0]
    return server


def _resolve_cache(request: pytest.FixtureRequest, cache: str) -> str:
    return request.getfixturevalue("redis_url") if cache == "redis" else cache


@pytest.fixture
def mock_server_factory(request: pytest.FixtureRequest,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., MockServer]]:
    """Start mock servers with chosen args; all of them are stopped when the test ends."""
    started: list[MockServer] = []
    log_dir = tmp_path_factory.mktemp("mock_server")

    def start(cache: str = "memory", profiles: str | Path | None = None, seed: int = 0,
              extra_args: Sequence[str] = ()) -> MockServer:
        server = launch_mock_server(log_dir, cache=_resolve_cache(request, cache),
                                    profiles=profiles, seed=seed, extra_args=extra_args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def mock_server(request: pytest.FixtureRequest,
                mock_server_factory: Callable[..., MockServer]) -> MockServer:
    """One running mock server (default cache: memory; see the module docstring for params)."""
    return mock_server_factory(cache=getattr(request, "param", "memory"))
