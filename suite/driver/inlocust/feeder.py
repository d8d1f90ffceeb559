"""Hands out corpus requests, each exactly once, to the users of one process.

Locust users are gevent greenlets in one thread: they switch only at I/O, so plain counters are
safe (no lock) as long as ``take`` and ``done`` do no I/O. The feeder also knows when the run is
over: everything handed out and nothing left in flight.

Splitting (distributed runs): ``select`` gives each of ``count`` workers a disjoint share of the
corpus — every request in exactly one share, no gaps — by stride, or by whole sessions when a
session must stay on one user (affinity). ``max_requests`` cuts the corpus *before* the split, so
the total over all workers is the same as in a single process.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from suite.records import CorpusRequest


def select(requests: Sequence[CorpusRequest], *, index: int = 0, count: int = 1,
           max_requests: int | None = None, by_session: bool = False) -> list[int]:
    """Corpus positions (in corpus order) that worker ``index`` of ``count`` sends."""
    if not 0 <= index < count:
        raise ValueError(f"worker index {index} is outside 0..{count - 1}")
    n = len(requests) if max_requests is None else min(max_requests, len(requests))
    if not by_session:
        return list(range(index, n, count))
    order: dict[str, int] = {}
    for pos in range(n):
        order.setdefault(requests[pos].session, len(order))
    return [pos for pos in range(n) if order[requests[pos].session] % count == index]


class CorpusFeeder:
    """Shared cursor over this process's share of the corpus, with counters of sent and in flight.

    With ``affinity`` each user keeps one session until its turns are all sent (turn order kept,
    the next turn only after the previous answer, as users are closed-loop), then takes the next
    session nobody has started.
    """

    def __init__(self, requests: Sequence[CorpusRequest], *, affinity: bool = False) -> None:
        self.requests = requests
        self.affinity = affinity
        self.next_index = 0
        self.sent = 0
        self.in_flight = 0
        self._sessions: deque[deque[CorpusRequest]] = deque()
        self._held: dict[int, deque[CorpusRequest]] = {}
        if affinity:
            by_session: dict[str, deque[CorpusRequest]] = {}
            for req in requests:
                by_session.setdefault(req.session, deque()).append(req)
            self._sessions.extend(by_session.values())

    @property
    def exhausted(self) -> bool:
        return self.sent >= len(self.requests)

    @property
    def finished(self) -> bool:
        """Every request has been handed out and every handed-out request has been answered."""
        return self.exhausted and self.in_flight == 0

    def take(self, user: int = 0) -> CorpusRequest | None:
        """The next request for ``user`` (counted as sent and in flight), or None when none is left
        for it."""
        req = self._next_affine(user) if self.affinity else self._next_in_order()
        if req is not None:
            self.sent += 1
            self.in_flight += 1
        return req

    def _next_in_order(self) -> CorpusRequest | None:
        if self.next_index >= len(self.requests):
            return None
        self.next_index += 1
        return self.requests[self.next_index - 1]

    def _next_affine(self, user: int) -> CorpusRequest | None:
        held = self._held.get(user)
        if not held:
            if not self._sessions:
                self._held.pop(user, None)
                return None
            held = self._held[user] = self._sessions.popleft()
        return held.popleft()

    def done(self) -> bool:
        """Mark one taken request as answered (recorded); True if that finished the run."""
        if self.in_flight <= 0:
            raise RuntimeError("done() called more often than take(): a record was counted twice")
        self.in_flight -= 1
        return self.finished
