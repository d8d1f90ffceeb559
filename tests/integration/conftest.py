"""Integration fixtures for the bundled mock server: real processes on ports the OS chooses.

``mock_server``          one server per test; parametrize the cache indirectly:
                         ``@pytest.mark.parametrize("mock_server", ["redis"], indirect=True)``
                         ("memory" — the default —, "none", "redis" = the private test Redis,
                         or any cache URL).
``mock_server_factory``  ``start(cache="memory", profiles=None, seed=0, extra_args=())`` → a
                         started ``MockServer``; everything it started is stopped at teardown.
``chromium``             headless Debian Chromium driven by Playwright (one per test module);
                         skips, saying why, where ``find_chromium()`` finds none.

Browser tests write screenshots to ``artifacts_dir()`` (``$LLMSUITE_ARTIFACTS``, default
``reports/screenshots/``, git-ignored); the run's end lists the ones this run wrote.

A server is ``python -m mock_server --host 127.0.0.1 --port 0 ...``; its port is read from the
one readiness line it prints, and it is stopped by PID (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from suite.services import MockServerProcess, start_mock_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

MockServer = MockServerProcess

# root in a container needs --no-sandbox; the rest keeps a test browser from calling home
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")
REPO = Path(__file__).resolve().parents[2]
_STARTED = pytest.StashKey[float]()
NO_CHROMIUM = ("needs Debian's chromium, not found: scripts/ensure-chromium.sh installs it when run as root "
               "(`make test` does), or apt-get install -y chromium")


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


# Modules whose tests take longest (--durations), longest first. They are collected first, so the
# two pytest-xdist workers start on them and the run ends on short tests, not on one worker still
# busy with a long one while the other idles. A module missing here is only scheduled later.
LONG_FIRST = (
    "history/test_history.py", "test_fault_matrix.py", "ci/test_recipes.py", "gateway/test_sweep.py",
    "check/test_check.py", "gateway/test_swap.py", "init/test_init.py", "driver/test_lifecycle.py",
    "test_cli_pipeline.py", "driver/test_columnar.py", "mock_server/test_fuzz.py", "driver/test_faults.py",
    "monitoring/test_prometheus.py", "sweep/test_default_knee.py", "test_monitor.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long modules first, each module's tests kept together and in order (a module fixture is set
    up once per worker only while its tests are contiguous)."""
    here = Path(__file__).parent
    rank = {here / name: k for k, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path, len(rank)))  # stable: the rest keep their order


def artifacts_dir() -> Path:
    return Path(os.environ.get("LLMSUITE_ARTIFACTS") or REPO / "reports" / "screenshots")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_STARTED] = time.time()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Where this run's screenshots are (pytest-xdist hides the workers' prints of passing tests)."""
    folder = artifacts_dir()
    started = config.stash.get(_STARTED, 0.0)
    shots = sorted(p for p in folder.glob("*.png") if p.stat().st_mtime >= started) if folder.is_dir() else []
    if shots:
        terminalreporter.write_sep("-", f"{len(shots)} screenshot{'s' if len(shots) > 1 else ''} written")
        for shot in shots:
            terminalreporter.write_line(str(shot))


def find_chromium() -> str | None:
    """The system Chromium (scripts/ensure-chromium.sh installs Debian's); Playwright never
    downloads a browser of its own here."""
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Headless Chromium under Playwright. Per module, not per session: while Playwright's sync API
    is up it marks its event loop as running in this thread, so a session-long browser would make
    every later ``asyncio.run`` on the same pytest worker fail."""
    path = find_chromium()
    if path is None:
        pytest.skip(NO_CHROMIUM)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing: pip install -e '.[dev]' (or make install)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()
