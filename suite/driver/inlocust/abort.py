"""Abort rules: when a run is no longer worth continuing, say so once, with the reason.

Pure state machines fed by the locustfile (results as they are recorded, health probes as they
come back); the first rule that trips produces the ``run.json`` ``extra.aborted`` value
``{"reason": str, "at": epoch}`` and the run stops. The analyzer marks the report aborted from
it, and ``llmsuite run`` exits with ``suite.errors.EXIT_RUN_ABORTED``.
"""

from __future__ import annotations

from collections import deque
from typing import Any


class ErrorWindow:
    """Error ratio over the last ``window_s`` seconds; trips above ``ratio`` once at least
    ``min_requests`` results are in the window (a single early failure is not a verdict)."""

    def __init__(self, ratio: float, window_s: float, min_requests: int = 20) -> None:
        self.ratio = ratio
        self.window_s = window_s
        self.min_requests = min_requests
        self._events: deque[tuple[float, bool]] = deque()
        self._errors = 0

    def add(self, now: float, ok: bool) -> str | None:
        """Record one result at ``now`` (epoch s); the abort reason if the rule trips, else None."""
        self._events.append((now, ok))
        self._errors += not ok
        horizon = now - self.window_s
        while self._events and self._events[0][0] < horizon:
            _, old_ok = self._events.popleft()
            self._errors -= not old_ok
        n = len(self._events)
        if n >= self.min_requests and self._errors / n > self.ratio:
            return (f"error ratio {self._errors / n:.2f} over the last {self.window_s:g} s "
                    f"({self._errors} of {n} requests failed) is above --abort-error-ratio {self.ratio:g}")
        return None


class HealthStreak:
    """Consecutive failed health probes; trips at ``limit`` in a row (a success resets it)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.failures = 0

    def add(self, ok: bool, detail: str = "") -> str | None:
        self.failures = 0 if ok else self.failures + 1
        if self.failures >= self.limit:
            last = f" (last: {detail})" if detail else ""
            return f"target health critical: {self.failures} health checks failed in a row{last}"
        return None


class ConnectStreak:
    """Consecutive ``connect`` errors of one process (any other outcome resets it); trips at
    ``limit`` in a row: the target has stopped accepting connections, and a run that goes on would
    only record refusals (or, in open loop, burn its whole schedule on them)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def add(self, error_kind: str | None, message: str = "") -> str | None:
        self.count = self.count + 1 if error_kind == "connect" else 0
        if self.count >= self.limit:
            last = f" Last: {message}" if message else ""
            return (f"target refused {self.count} connections in a row (connect errors): is it still "
                    f"running?{last} (rule: --abort-connect-errors {self.limit})")
        return None


def aborted(reason: str, at: float) -> dict[str, Any]:
    """The ``extra.aborted`` value of run.json (the contract the analyzer reads)."""
    return {"reason": reason, "at": at}
