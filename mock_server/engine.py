"""Decide how a request is answered: from the response cache (hit) or by planning it (miss).

Rule: the cache never turns a good request into an error. Any backend failure is counted in
``cache_errors``, logged once per outage (and once on recovery), and the request is served as a
MISS — fail open.

Hit policy: the cached completion comes back after the real lookup time plus the profile's
``hit_overhead_s``, then every token at once (no pacing) — the TTFT of a hit is the cache's, and
its ITL is ~0. A miss is paced by the plan, starting after the lookup (a real gateway pays the
lookup on every miss too).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from mock_server.cache import NullCache, ResponseCache
from mock_server.config import MockConfig
from mock_server.metrics import Metrics
from mock_server.plan import Completion, Timing, hit_timing, plan
from mock_server.request import ChatRequest
from suite.errors import CacheBackendError

HIT, MISS, OFF = "hit", "miss", "off"


class Answer(NamedTuple):
    """How one request is answered (a NamedTuple: built on every request, so cheap to make)."""

    completion: Completion
    timing: Timing
    cache: str  # HIT | MISS | OFF (no cache configured)


class Engine:
    def __init__(self, config: MockConfig, cache: ResponseCache, metrics: Metrics,
                 log: logging.Logger) -> None:
        self.config = config
        self.cache = cache
        self.metrics = metrics
        self.log = log
        self.enabled = not isinstance(cache, NullCache)
        self._failing = False

    async def answer(self, request: ChatRequest) -> Answer:
        profile = self.config.profiles[request.model]
        cached = await self._lookup(request.key)
        if cached is not None:
            return Answer(cached, hit_timing(profile, len(cached.tokens)), HIT)
        planned = plan(request, profile, self.config.seed)
        return Answer(planned.completion, planned.timing, MISS if self.enabled else OFF)

    async def probe(self, where: str) -> bool:
        """Ping the backend once at start; unreachable => one warning line, then fail open."""
        try:
            await self.cache.ping()
        except CacheBackendError as exc:
            self._failing = True
            self.log.warning("warning: cache %s unreachable (%s); serving every request as a MISS "
                             "until it answers (fail open).", where, exc)
            return False
        return True

    async def store(self, request: ChatRequest, answer: Answer) -> None:
        """Write a generated answer back (called once it has been fully produced)."""
        if answer.cache != MISS:
            return
        try:
            await self.cache.put(request.key, answer.completion)
        except CacheBackendError as exc:
            self._failed(exc)

    async def _lookup(self, key: str) -> Completion | None:
        if not self.enabled:
            return None
        try:
            found = await self.cache.get(key)
        except CacheBackendError as exc:
            self._failed(exc)
            return None
        self._recovered()
        if found is None:
            self.metrics.cache_miss()
        else:
            self.metrics.cache_hit()
        return found

    def _failed(self, exc: CacheBackendError) -> None:
        self.metrics.cache_error()
        if not self._failing:
            self._failing = True
            self.log.warning("cache %s failing (%s); serving requests as MISS until it "
                             "answers again", self.cache.name, exc)

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            self.log.warning("cache %s answering again", self.cache.name)
