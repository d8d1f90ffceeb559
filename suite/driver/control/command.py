"""The Locust command line of a run (pure, so tests can read it): schedule, processes, web UI.

``Topology`` says which Locust processes a run starts: one standalone process; ``processes=N``
(Locust's ``--processes``: a master plus N forked workers on this host, bound to loopback on a
port the OS chose); or one side of a multi-host run (``role="master"`` waiting for
``expect_workers``, or ``role="worker"`` connecting to ``master_host``). See docs/running-load.md.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from suite.driver.control.loadopts import LoadOptions
from suite.errors import SpecError

# Locust loads the child side by file path (``-f``); its imports are absolute, so it works from there.
LOCUSTFILE = Path(__file__).parent.parent / "inlocust" / "locustfile.py"
ROLES = ("local", "master", "worker")
DEFAULT_MASTER_PORT = 5557
WEB_AUTOQUIT_S = 5
OPEN_LOOP_SPAWN_RATE = 50  # per worker: the schedulers start within ~20 ms of each other


@dataclass(frozen=True)
class Topology:
    processes: int = 0
    role: str = "local"
    master_host: str = "127.0.0.1"
    master_port: int = DEFAULT_MASTER_PORT
    master_bind_host: str = "*"  # a multi-host master listens on every interface (Locust's default)
    expect_workers: int = 1
    web: bool = False
    web_port: int = 8089
    web_keep: bool = False  # the UI outlives the run; the caller stops it (suite.driver.control.webkeep)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise SpecError(f"role: {self.role!r} is not one of {', '.join(ROLES)}.")
        if self.processes < 0:
            raise SpecError(f"processes: {self.processes} is not valid (must be >= 0).")
        if self.processes and self.role != "local":
            raise SpecError("--processes starts its own master and workers on this host; it cannot be "
                            "combined with --master or --worker.")
        if self.web_keep and not self.web:
            raise SpecError("--web-keep keeps the web UI up after the run: it needs --web.")
        if self.expect_workers < 1:
            raise SpecError(f"expect_workers: {self.expect_workers} is not valid (must be >= 1).")

    @property
    def distributed(self) -> bool:
        return bool(self.processes) or self.role != "local"

    @property
    def workers(self) -> int:
        """How many worker processes send requests (1 for a standalone run)."""
        return self.processes or (self.expect_workers if self.role == "master" else 1)


def num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def locust_command(target: str, users: int, spawn_rate: float, duration_s: float, csv_prefix: Path,
                   extra: Sequence[str] = (), stop_timeout_s: float = 30.0,
                   load: LoadOptions | None = None, topology: Topology | None = None) -> list[str]:
    """The Locust command line. Locust's ``-t`` takes whole seconds."""
    load, topo = load or LoadOptions(), topology or Topology()
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    if topo.role == "worker":
        return [*cmd, "--worker", "--master-host", topo.master_host, "--master-port",
                str(topo.master_port), "--host", target, *extra]
    if topo.web:
        cmd += ["--web-host", "127.0.0.1", "--web-port", str(topo.web_port), "--autostart"]
        if not topo.web_keep:  # without --autoquit Locust keeps its UI up after the run ends
            cmd += ["--autoquit", str(WEB_AUTOQUIT_S)]
    else:
        cmd += ["--headless", "--only-summary"]
    cmd += _schedule_args(users, spawn_rate, duration_s, load, topo)
    cmd += ["--stop-timeout", num(stop_timeout_s), "--host", target, "--csv", str(csv_prefix),
            "--exit-code-on-error", "0"]
    if topo.processes:
        cmd += ["--processes", str(topo.processes), "--master-bind-host", "127.0.0.1", "--master-host",
                "127.0.0.1", "--master-bind-port", str(topo.master_port), "--master-port",
                str(topo.master_port)]
    elif topo.role == "master":
        cmd += ["--master", "--expect-workers", str(topo.expect_workers), "--master-bind-host",
                topo.master_bind_host, "--master-bind-port", str(topo.master_port)]
    return [*cmd, *extra]


def _schedule_args(users: int, spawn_rate: float, duration_s: float, load: LoadOptions,
                   topo: Topology) -> list[str]:
    if load.preset:  # the shape class drives users and ends the run at the preset's duration
        return []
    if load.mode == "open":  # one scheduling user per worker process, all started at once
        users, spawn_rate = topo.workers, float(OPEN_LOOP_SPAWN_RATE * topo.workers)
    if topo.distributed:  # the master times the run from when every worker holds its share
        return ["-u", str(users), "-r", num(spawn_rate)]
    return ["-u", str(users), "-r", num(spawn_rate), "-t", f"{max(1, math.ceil(duration_s))}s"]
