"""What ``run_load`` checks of its arguments before anything starts (pure): the run id, the
numbers, and the Locust flags a caller may not pass because the runner sets them itself."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timezone

from suite.errors import SpecError

STOP_TIMEOUT_S = 30.0

# Flags run_load sets itself, and why a caller may not pass them in ``locust_args``.
RESERVED_FLAGS: dict[str, str] = {
    **dict.fromkeys(("-f", "--locustfile", "-H", "--host", "-u", "--users", "-r", "--spawn-rate",
                     "-t", "--run-time", "--stop-timeout", "--csv", "--headless"),
                    "run_load sets it from its own arguments"),
    **dict.fromkeys(("--processes", "--master", "--worker", "--master-host", "--master-port",
                     "--expect-workers"),
                    "pass topology=Topology(processes=N) or role='master'/'worker' instead, so the "
                    "corpus is split between workers with no request sent twice"),
}


def new_run_id(now: datetime | None = None, token: str | None = None) -> str:
    """``<UTC yyyymmdd-HHMMSS>-<6 hex>``: sorts by time, unique across parallel runs; e.g.
    ``20250102-030405-abc123`` for 2025-01-02 03:04:05 UTC and the token ``abc123``."""
    now = now or datetime.now(timezone.utc)
    return f"{now.astimezone(timezone.utc):%Y%m%d-%H%M%S}-{token or secrets.token_hex(3)}"


def _validate(users: int, spawn_rate: float, duration_s: float, target: str,
              stop_timeout_s: float = STOP_TIMEOUT_S) -> None:
    if users < 1:
        raise SpecError(f"users: {users} is not valid (must be >= 1).")
    if spawn_rate <= 0:
        raise SpecError(f"spawn_rate: {spawn_rate} is not valid (must be > 0 users per second).")
    if duration_s <= 0:
        raise SpecError(f"duration: {duration_s} s is not valid (must be > 0).")
    if stop_timeout_s < 0:
        raise SpecError(f"stop_timeout: {stop_timeout_s} s is not valid (must be >= 0).")
    if not target.startswith(("http://", "https://")):
        raise SpecError(f"target: {target!r} is not an http(s) URL, e.g. http://127.0.0.1:8000")


def _check_locust_args(args: Sequence[str]) -> None:
    for arg in args:
        flag = arg.split("=", 1)[0]
        if flag in RESERVED_FLAGS:
            raise SpecError(f"locust_args: {arg!r} is not allowed ({RESERVED_FLAGS[flag]}).")
