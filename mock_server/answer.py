"""Decide how a request is answered — from the response cache (hit) or by planning it (miss):
the answer planner. The route only sleeps and writes what the ``Answer`` says; the pure plan of a
miss (tokens, text, delays) is plan.py's, re-exported here so routes and tests import one module.

Rule: the cache never turns a good request into an error. Any backend failure is counted in
``cache_errors``, logged once per outage (and once on recovery), and the request is served as a
MISS — fail open.

Hit policy: the cached completion comes back after the real lookup time plus the profile's
``hit_overhead_s``, then every token at once (no pacing) — the TTFT of a hit is the cache's, and
its ITL is ~0. A miss is paced by the plan from the request's receipt (every token at an absolute
time, so parsing, the lookup and planning are absorbed instead of added — timing fidelity), or
from its admission into the batch when the model has a load model (queueing adds to TTFT), or
from the end of an injected first-byte stall.

Prompt-prefix caching (a profile's ``prefix_cache``, prefixcache.py): a miss's prompt goes
through the model's block cache first, and plan.py prefills only its uncached tokens. A
response-cache hit never reaches it (nothing is prefilled) and reports its whole prompt as cached.

Long prompts (more than ``OFF_LOOP_CHARS`` characters, e.g. a long ``/api/chat`` history or a
huge question) are counted in a worker thread (``count_prompt``; tiktoken releases the GIL while
it encodes), so ``/health`` and every other request keep being answered meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Callable
from typing import NamedTuple

from mock_server.batching import Batch, QueueFull, RateLimiter, itl_scale, retry_headers
from mock_server.beyond import Beyond
from mock_server.cache import Completion, MemoryCache, NullCache, ResponseCache
from mock_server.config import MockConfig, Profile
from mock_server.faults import Fault, draw_fault, parse_fault
from mock_server.metrics import Metrics
from mock_server.openai_errors import ApiError
from mock_server.plan import (
    Timing,
    chat_prompt_tokens,
    cut_at_stop,
    hit_timing,
    plan,
    plan_completion,
    stalled,
    text_tokens,
    warm_tokenizers,
)
from mock_server.prefixcache import PrefixCache, prefix_caches, prompt_ids, text_ids
from mock_server.semantic import Served
from mock_server.validate import ChatRequest
from suite.errors import CacheBackendError

__all__ = ["FAULT_HEADER", "HIT", "MISS", "NO_HEADERS", "OFF", "OFF_LOOP_CHARS", "Answer",
           "AnswerPlanner", "Timing", "chat_prompt_tokens", "count_prompt", "count_text",
           "cut_at_stop", "hit_timing", "is_long", "plan", "plan_completion", "rate_limited",
           "text_tokens", "warm_tokenizers"]

HIT, MISS, OFF = "hit", "miss", "off"
FAULT_HEADER = "X-Mock-Fault"
NO_HEADERS: dict[str, str] = {}
OFF_LOOP_CHARS = 32_768  # prompts longer than this are tokenized in a worker thread


class Answer(NamedTuple):
    """How one request is answered (a NamedTuple: built on every request, so cheap to make)."""

    completion: Completion
    timing: Timing
    cache: str  # HIT | MISS | OFF (no cache configured)
    fault: Fault | None = None  # a faulted answer is never stored
    batch: Batch | None = None  # the batch slot held until the answer ends (release it)
    headers: dict[str, str] = NO_HEADERS  # x-ratelimit-* when the model has limits
    admitted: float | None = None  # clock when a batch slot was granted (pacing starts there)
    served: Served | None = None  # a hit's entry and match kind (semantic/coalesce modes only)
    flight: str | None = None  # the key this miss leads a --coalesce flight for (beyond.py)


def rate_limited(message: str, wait_s: float, headers: dict[str, str]) -> ApiError:
    return ApiError(429, message, code="rate_limit_exceeded", type_="requests",
                    headers={**headers, **retry_headers(wait_s)})


class AnswerPlanner:
    """Answers requests of one app: its cache (failing open), fault draws, batches and rate
    limits. Per app, never global: tests run several apps in one process."""

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
        self.prefix = prefix_caches({n: p.prefix_cache for n, p in config.profiles.items()})
        self.beyond = Beyond.build(config, cache)  # semantic cache / coalescing, or None

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
            if self.beyond is not None:
                served = Beyond.exact(request.key)
                return Answer(cached, stalled(timing, fault), HIT, fault, headers=served.headers(),
                              served=served)
            return Answer(cached, stalled(timing, fault), HIT, fault)
        if self.beyond is not None:
            return await self.beyond.miss(self, request, fault)
        return await self.plan_miss(request, fault)

    async def plan_miss(self, request: ChatRequest, fault: Fault | None) -> Answer:
        """A generated answer (rate-checked, waiting for a batch slot on a loaded model)."""
        profile = self.config.profiles[request.model]
        prompt, cached_prefix = None, 0
        prefix = self.prefix.get(profile.name)
        if prefix is not None:
            prompt, cached_prefix = await self._prefix_hit(prefix, request, profile.encoding)
        elif request.prompt is None and is_long(request.messages):
            prompt = await asyncio.to_thread(chat_prompt_tokens, request.messages, profile.encoding)
        planned = plan(request, profile, self.config.seed, prompt, cached_prefix)
        headers = self._charge(request, planned.completion.prompt_tokens)
        if profile.name not in self.batches:  # no load model: nothing to wait for
            return Answer(planned.completion, stalled(planned.timing, fault),
                          MISS if self.enabled else OFF, fault, None, headers)
        batch, timing = await self._admit(profile, planned.timing)
        return Answer(planned.completion, stalled(timing, fault), MISS if self.enabled else OFF,
                      fault, batch, headers, None if batch is None else self.clock())

    @staticmethod
    async def _prefix_hit(prefix: PrefixCache, request: ChatRequest,
                          encoding: str) -> tuple[int, int]:
        """(prompt tokens, cached prefix tokens): the prompt's real token ids (in a worker thread
        when long) through the model's prefix cache."""
        if request.prompt is not None:
            ids = list(text_ids(encoding, request.prompt))
        elif is_long(request.messages):
            ids = await asyncio.to_thread(prompt_ids, request.messages, encoding)
        else:
            ids = prompt_ids(request.messages, encoding)
        return len(ids), prefix.admit(ids)

    def served_hit(self, request: ChatRequest, completion: Completion, served: Served,
                   fault: Fault | None) -> Answer:
        """A hit found beyond the exact lookup (semantic or coalesced): counted as a hit."""
        self.metrics.counts.misses -= 1  # the exact lookup counted a miss
        self.metrics.counts.hits += 1
        timing = hit_timing(self.config.profiles[request.model], len(completion.tokens))
        return Answer(completion, stalled(timing, fault), HIT, fault, headers=served.headers(),
                      served=served)

    def release(self, answer: Answer) -> None:
        if answer.batch is not None:
            answer.batch.release()
        if answer.flight is not None and self.beyond is not None:
            self.beyond.released(answer.flight)

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
        if self.memory is not None and self.beyond is None:
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
        if self.beyond is not None:
            await self.beyond.stored(self, request, answer.completion)

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

    def failed(self, exc: CacheBackendError) -> None:
        """A backend failure seen outside the planner (semantic cache): counted, fail open."""
        self._failed(exc)

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


def is_long(messages: list[dict[str, str]]) -> bool:
    """More than ``OFF_LOOP_CHARS`` characters of message strings (then counted off the loop)."""
    return sum(len(v) for m in messages for v in m.values() if isinstance(v, str)) > OFF_LOOP_CHARS


async def count_prompt(messages: list[dict[str, str]], encoding: str) -> int:
    """``chat_prompt_tokens``, in a worker thread when the prompt is long."""
    if is_long(messages):
        return await asyncio.to_thread(chat_prompt_tokens, messages, encoding)
    return chat_prompt_tokens(messages, encoding)


async def count_text(text: str, encoding: str) -> int:
    """``text_tokens``, in a worker thread when the text is long."""
    if len(text) > OFF_LOOP_CHARS:
        return await asyncio.to_thread(text_tokens, encoding, text)
    return text_tokens(encoding, text)
