"""Back off from a target that refuses connections, instead of burning the corpus against it.

A dead target refuses a connection in well under a millisecond, so a closed-loop user that sends
its next request at once would record the rest of its corpus as ``connect`` errors before a health
check or an abort rule could even notice. After a ``connect`` error the next send of this process
waits ``base · 2^(k−1)`` seconds (k consecutive connect errors, capped at ``cap``); any other
outcome resets it. Every request still has its one record; only the pace changes. Pure: the
locustfile does the waiting.
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
