"""Back off from a target that refuses connections, instead of burning the corpus against it.

A dead target refuses a connection in well under a millisecond, so a closed-loop user that sends
its next request at once would record the rest of its corpus as ``connect`` errors before a health
check or an abort rule could even notice. After a ``connect`` error the next send of this process
waits ``base · 2^(k−1)`` seconds (k consecutive connect errors, capped at ``cap``); any other
outcome resets it. Every request still has its one record; only the pace changes. An open-loop
run does not back off (its schedule must not be shifted): the abort rule on consecutive connect
errors (suite.driver.inlocust.abort.ConnectStreak) stops it instead. Pure: the locustfile does the
waiting.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ConnectBackoff:
    """Consecutive connect errors of one process, and the pause they call for."""

    base_s: float = 0.05
    cap_s: float = 2.0
    consecutive: int = 0

    def observe(self, error_kind: str | None) -> float:
        """Count one result; return how long to wait before the next send (0 unless refused)."""
        if error_kind != "connect":
            self.consecutive = 0
            return 0.0
        self.consecutive += 1
        return min(self.cap_s, self.base_s * 2 ** (self.consecutive - 1))


RETRY_AFTER_CAP_S = 60.0


@dataclass
class RetryAfterPause:
    """``--retry-after honour``: the pause a closed-loop user takes before its next send when the
    target answered 429/503 with ``Retry-After``, capped at ``cap_s`` (a target asking for an hour
    must not silently stall the run); counted so run.json shows how much the load was held back.
    Open loop never pauses: its schedule is the measurement (the value is still recorded)."""

    cap_s: float = RETRY_AFTER_CAP_S
    honoured: int = 0
    capped: int = 0
    paused_s: float = 0.0

    def observe(self, retry_after: float | None) -> float:
        """Count one result's Retry-After (None: absent); return how long to pause."""
        if retry_after is None:
            return 0.0
        pause = min(retry_after, self.cap_s)
        self.honoured += 1
        self.capped += retry_after > self.cap_s
        self.paused_s += pause
        return pause

    def summary(self) -> dict[str, float | int]:
        """run.json ``extra.retry_after``: pauses taken, how many were capped, seconds paused."""
        return {"honoured": self.honoured, "capped": self.capped, "cap_s": self.cap_s,
                "paused_s": round(self.paused_s, 3)}
