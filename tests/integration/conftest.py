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

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from suite.services import MockServerProcess, start_mock_server

MockServer = MockServerProcess


def launch_mock_server(
    log_dir: Path,
    *,
    cache: str = "memory",
    profiles: str | Path | None = None,
    seed: int = 0,
    extra_args: Sequence[str] = (),
) -> MockServer:
    """Start one server and wait for its readiness line; raise with its log if it never comes."""
    args = ["--cache", cache, "--seed", str(seed)]
    if profiles is not None:
        args += ["--profiles", str(profiles)]
    log_dir.mkdir(parents=True, exist_ok=True)
    return start_mock_server([*args, *extra_args], log_dir / f"mock_server_{time.monotonic_ns()}.log")


def _resolve_cache(request: pytest.FixtureRequest, cache: str) -> str:
    return request.getfixturevalue("redis_url") if cache == "redis" else cache


@pytest.fixture
def mock_server_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., MockServer]]:
    """Start mock servers with chosen args; all of them are stopped when the test ends."""
    started: list[MockServer] = []
    log_dir = tmp_path_factory.mktemp("mock_server")

    def start(
        cache: str = "memory",
        profiles: str | Path | None = None,
        seed: int = 0,
        extra_args: Sequence[str] = (),
    ) -> MockServer:
        server = launch_mock_server(
            log_dir, cache=_resolve_cache(request, cache), profiles=profiles, seed=seed, extra_args=extra_args
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def mock_server(request: pytest.FixtureRequest, mock_server_factory: Callable[..., MockServer]) -> MockServer:
    """One running mock server (default cache: memory; see the module docstring for params)."""
    return mock_server_factory(cache=getattr(request, "param", "memory"))
