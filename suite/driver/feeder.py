"""Hands out corpus requests in corpus order, each exactly once, to all users of one process.

Locust users are gevent greenlets in one thread: they switch only at I/O, so a plain counter is
safe (no lock) as long as ``take`` and ``done`` do no I/O. The feeder also knows when the run is
over: corpus exhausted and nothing left in flight.
"""

from __future__ import annotations

from collections.abc import Sequence

from suite.records import CorpusRequest


class CorpusFeeder:
    """Shared cursor over the corpus plus counters of requests sent and in flight."""

    def __init__(self, requests: Sequence[CorpusRequest]) -> None:
        self.requests = requests
        self.next_index = 0
        self.sent = 0
        self.in_flight = 0

    @property
    def exhausted(self) -> bool:
        return self.next_index >= len(self.requests)

    @property
    def finished(self) -> bool:
        """Every request has been handed out and every handed-out request has been answered."""
        return self.exhausted and self.in_flight == 0

    def take(self) -> CorpusRequest | None:
        """The next request to send (counted as sent and in flight), or None when none is left."""
        if self.exhausted:
            return None
        req = self.requests[self.next_index]
        self.next_index += 1
        self.sent += 1
        self.in_flight += 1
        return req

    def done(self) -> bool:
        """Mark one taken request as answered (recorded); True if that finished the run."""
        if self.in_flight <= 0:
            raise RuntimeError("done() called more often than take(): a record was counted twice")
        self.in_flight -= 1
        return self.finished
