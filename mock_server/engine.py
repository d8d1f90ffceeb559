"""Decide how a request is answered: from the response cache (hit) or by planning it (miss).

Rule: the cache never turns a good request into an error. Any backend failure is counted in
``cache_errors``, logged once per outage (and once on recovery), and the request is served as a
MISS — fail open.

Hit policy: the cached completion comes back after the real lookup time plus the profile's
``hit_overhead_s``, then every token at once (no pacing) — the TTFT of a hit is the cache's, and
its ITL is ~0. A miss is paced by the plan from the request's receipt (every token at an absolute
time, so parsing, the lookup and planning are absorbed instead of added — timing fidelity), or
from its admission into the batch when the model has a load model (queueing adds to TTFT), or
from the end of an injected first-byte stall.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from typing import NamedTuple

from mock_server.cache import MemoryCache, NullCache, ResponseCache
from mock_server.config import MockConfig, Profile
from mock_server.faults import Fault, draw_fault, parse_fault, stall_mid_gaps
from mock_server.load import Batch, QueueFull, RateLimiter, itl_scale, retry_headers
from mock_server.metrics import Metrics
from mock_server.openai_errors import ApiError
from mock_server.plan import Completion, Timing, hit_timing, plan
from mock_server.request import ChatRequest
from suite.errors import CacheBackendError

HIT, MISS, OFF = "hit", "miss", "off"
FAULT_HEADER = "X-Mock-Fault"
NO_HEADERS: dict[str, str] = {}


class Answer(NamedTuple):
    """How one request is answered (a NamedTuple: built on every request, so cheap to make)."""

    completion: Completion
    timing: Timing
    cache: str  # HIT | MISS | OFF (no cache configured)
    fault: Fault | None = None  # a faulted answer is never stored
    batch: Batch | None = None  # the batch slot held until the answer ends (release it)
    headers: dict[str, str] = NO_HEADERS  # x-ratelimit-* when the model has limits
    admitted: float | None = None  # clock when a batch slot was granted (pacing starts there)


def rate_limited(message: str, wait_s: float, headers: dict[str, str]) -> ApiError:
    return ApiError(429, message, code="rate_limit_exceeded", type_="requests",
                    headers={**headers, **retry_headers(wait_s)})


class Engine:
    def __init__(self, config: MockConfig, cache: ResponseCache, metrics: Metrics,
                 log: logging.Logger, clock: Callable[[], float] = time.perf_counter) -> None:
        self.config = config
        self.cache = cache
        self.metrics = metrics
        self.log = log
        self.clock = clock
        self.enabled = not isinstance(cache, NullCache)
        self.memory = cache if type(cache) is MemoryCache else None  # exactly: no await needed
        self._failing = False
        self.fault_rng = random.Random(f"faults:{config.seed}")
        loads = {name: p.load for name, p in config.profiles.items() if p.load is not None}
        self.batches = {name: Batch(load.max_batch, load.queue_limit)
                        for name, load in loads.items() if load.max_batch is not None}
        self.limiters = {name: RateLimiter(load.rpm, load.tpm, clock())
                         for name, load in loads.items() if load.rpm or load.tpm}

    def fault_for(self, model: str, header: str | None) -> Fault | None:
        """The header's fault (400 when unparsable), else a seeded draw from the profile."""
        if header is not None:
            try:
                return parse_fault(header)
            except ValueError as exc:
                raise ApiError(400, f"{FAULT_HEADER}: {exc}.", param=FAULT_HEADER,
                               code="invalid_fault") from None
        table = self.config.profiles[model].faults
        return draw_fault(table, self.fault_rng) if table else None

    async def answer(self, request: ChatRequest, fault: Fault | None = None) -> Answer:
        """Hit or planned miss; a miss on a loaded model is rate-checked and waits for a batch
        slot (ApiError 429 when refused). The caller must ``release`` the answer."""
        profile = self.config.profiles[request.model]
        if self.memory is not None:
            cached = self.memory.get_now(request.key)
            self.count_lookup(cached)
        else:
            cached = await self._lookup(request.key)
        if cached is not None:
            timing = hit_timing(profile, len(cached.tokens))
            return Answer(cached, _stalled(timing, fault), HIT, fault)
        planned = plan(request, profile, self.config.seed)
        headers = self._charge(request, planned.completion.prompt_tokens)
        if profile.name not in self.batches:  # no load model: nothing to wait for
            return Answer(planned.completion, _stalled(planned.timing, fault),
                          MISS if self.enabled else OFF, fault, None, headers)
        batch, timing = await self._admit(profile, planned.timing)
        return Answer(planned.completion, _stalled(timing, fault), MISS if self.enabled else OFF,
                      fault, batch, headers, None if batch is None else self.clock())

    def release(self, answer: Answer) -> None:
        if answer.batch is not None:
            answer.batch.release()

    def _charge(self, request: ChatRequest, prompt_tokens: int) -> dict[str, str]:
        limiter = self.limiters.get(request.model)
        if limiter is None:
            return NO_HEADERS
        cost = prompt_tokens + request.max_tokens
        wait, headers = limiter.check(self.clock(), cost)
        if wait == math.inf:
            raise ApiError(429, f"Request too large for {request.model} on this mock server: it "
                           f"needs {cost} tokens (prompt + max_tokens), more than the per-minute "
                           "limit; lower max_tokens.", code="rate_limit_exceeded", type_="tokens",
                           headers=headers)
        if wait > 0:
            raise rate_limited(f"Rate limit reached for {request.model} on this mock server: "
                               f"retry in {wait:.3f}s.", wait, headers)
        return headers

    async def _admit(self, profile: Profile, timing: Timing) -> tuple[Batch | None, Timing]:
        batch = self.batches.get(profile.name)
        if batch is None or profile.load is None:
            return None, timing
        try:
            size = await batch.acquire()
        except QueueFull:
            raise rate_limited(f"{profile.name} is overloaded on this mock server: "
                               f"{batch.max_batch} in the batch and {batch.queued} queued.",
                               1.0, {}) from None
        scale = itl_scale(profile.load, size)
        if scale == 1.0:
            return batch, timing
        return batch, Timing(timing.ttft_s, tuple(g * scale for g in timing.itl_s))

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

    def store_now(self, request: ChatRequest, answer: Answer) -> bool:
        """``store`` without a coroutine when nothing needs awaiting (no store, or the memory
        cache); False when the caller must ``await store(...)`` (Redis)."""
        if answer.cache != MISS or answer.fault is not None:
            return True
        if self.memory is not None:
            self.memory.put_now(request.key, answer.completion)
            return True
        return False

    async def store(self, request: ChatRequest, answer: Answer) -> None:
        """Write a generated answer back (called once it has been fully produced)."""
        if self.store_now(request, answer):
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
        self.count_lookup(found)
        return found

    def count_lookup(self, found: Completion | None) -> None:
        """One cache lookup's outcome in the hit/miss counters."""
        if found is None:
            self.metrics.counts.misses += 1
        else:
            self.metrics.counts.hits += 1

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


def _stalled(timing: Timing, fault: Fault | None) -> Timing:
    if fault is None or fault.kind != "stall_mid":
        return timing
    if not timing.itl_s:  # one token: the stall goes before it
        return Timing(timing.ttft_s + fault.arg, ())
    return Timing(timing.ttft_s, stall_mid_gaps(timing.itl_s, fault.arg))
